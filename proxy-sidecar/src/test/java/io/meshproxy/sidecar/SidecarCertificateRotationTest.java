package io.meshproxy.sidecar;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.tls.ClientTls;
import io.meshproxy.tls.TlsContexts;
import io.meshproxy.tls.TlsOptions;
import io.meshproxy.tls.WorkloadIdentity;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A running sidecar picks up a new workload certificate written over its {@code spec.identity} files (here by
 * {@code meshproxy certs} run again, as an agent would): a new connection sees the new serial without a restart,
 * and the admin page {@code /certs} shows what is served and the rotation count.
 */
class SidecarCertificateRotationTest {

    static void certs(Path out) {
        StringWriter text = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(text));
        assertEquals(0, cmd.execute("certs", "--out", out.toString(), "--workload", "default/reviews",
                "--workload", "default/productpage"), text.toString());
    }

    static String serialOf(Path pem) throws Exception {
        X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(pem)));
        return c.getSerialNumber().toString(16);
    }

    /** A full handshake from a fresh client context: the serial of the certificate the sidecar presents. */
    static String presentedSerial(EventLoopGroup group, WorkloadIdentity client, int port) throws Exception {
        ClientTls tls = TlsContexts.forClient(client, TlsOptions.defaults());
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        tls.addTo(ch.pipeline(), "127.0.0.1", port);
                    }
                }).connect("127.0.0.1", port).sync().channel();
        try {
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            assertTrue(ssl.handshakeFuture().await(10, TimeUnit.SECONDS) && ssl.handshakeFuture().isSuccess(),
                    () -> "handshake: " + ssl.handshakeFuture().cause());
            return ((X509Certificate) ssl.engine().getSession().getPeerCertificates()[0]).getSerialNumber().toString(16);
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void aNewCertificateWrittenOverTheFilesIsServedWithoutRestart(@TempDir Path dir) throws Exception {
        Path certs = dir.resolve("certs");
        certs(certs);
        Path chain = certs.resolve("default-reviews/cert-chain.pem");
        String first = serialOf(chain);
        Path config = Files.createDirectories(dir.resolve("reviews"));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (TestUpstream app = TestUpstream.start("reviews-app")) {
            Files.writeString(config.resolve("proxy.yaml"), """
                    apiVersion: meshproxy.io/v1alpha1
                    kind: Proxy
                    metadata: {name: reviews, namespace: default}
                    spec:
                      admin: {address: 127.0.0.1, port: 0}
                      listeners:
                      - {name: inbound, address: 127.0.0.1, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:%d"}
                      identity:
                        certificateChain: %s
                        privateKey: %s
                        trustBundle: %s
                    ---
                    apiVersion: security.istio.io/v1
                    kind: PeerAuthentication
                    metadata: {name: default, namespace: default}
                    spec:
                      mtls: {mode: STRICT}
                    """.formatted(app.port(), chain, certs.resolve("default-reviews/key.pem"),
                    certs.resolve("root-cert.pem")));
            try (Sidecar reviews = Sidecar.start(List.of(config), 1)) {
                int inbound = reviews.mesh().listenerPort("inbound");
                int admin = reviews.mesh().adminPort();
                WorkloadIdentity productpage = WorkloadIdentity.load(
                        certs.resolve("default-productpage/cert-chain.pem"),
                        certs.resolve("default-productpage/key.pem"), certs.resolve("root-cert.pem"), "cluster.local");
                assertEquals(first, presentedSerial(group, productpage, inbound));
                try (RawHttp a = new RawHttp(admin)) {
                    String page = a.send("GET /certs HTTP/1.1\r\nHost: admin\r\n\r\n").read().text();
                    assertTrue(page.contains("\"serial_number\": \"" + first + "\""), page);
                    assertTrue(page.contains("spiffe://cluster.local/ns/default/sa/reviews"), page);
                }

                certs(certs); // the same CA, new workload certificates
                String second = serialOf(chain);
                assertNotEquals(first, second);

                await().atMost(Duration.ofSeconds(15))
                        .until(() -> presentedSerial(group, productpage, inbound).equals(second));
                try (RawHttp a = new RawHttp(admin)) {
                    String page = a.send("GET /certs HTTP/1.1\r\nHost: admin\r\n\r\n").read().text();
                    assertTrue(page.contains("\"serial_number\": \"" + second + "\""), page);
                    assertTrue(page.contains("\"rotations\": 1"), page);
                    assertTrue(page.contains("\"rotations_rejected\": 0"), page);
                }
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
