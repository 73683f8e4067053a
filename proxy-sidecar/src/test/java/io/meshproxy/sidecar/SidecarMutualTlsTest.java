package io.meshproxy.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Two sidecars from YAML files, as two pods of a mesh: certificates from {@code meshproxy certs}; the server
 * side's INBOUND listener is STRICT by a PeerAuthentication; the client side's DestinationRule says
 * ISTIO_MUTUAL. The application behind the server side sees the caller's SPIFFE identity in
 * {@code x-forwarded-client-cert}; a plaintext client of the server side gets nothing.
 */
class SidecarMutualTlsTest {

    @Test
    void twoSidecarsTalkStrictMutualTlsConfiguredAsIstioDoes(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out));
        assertEquals(0, cmd.execute("certs", "--out", dir.resolve("certs").toString(),
                "--workload", "default/reviews", "--workload", "default/productpage"), out.toString());
        Path certs = dir.resolve("certs");
        try (TestUpstream app = TestUpstream.start("reviews-app")) {
            Path server = Files.createDirectories(dir.resolve("server"));
            Files.writeString(server.resolve("proxy.yaml"), """
                    apiVersion: meshproxy.io/v1alpha1
                    kind: Proxy
                    metadata: {name: reviews, namespace: default}
                    spec:
                      listeners:
                      - {name: inbound, address: 127.0.0.1, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:%d"}
                      workload: {name: reviews-v1, app: reviews, version: v1, serviceAccount: reviews}
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
                    """.formatted(app.port(), certs.resolve("default-reviews/cert-chain.pem"),
                    certs.resolve("default-reviews/key.pem"), certs.resolve("root-cert.pem")));
            try (Sidecar reviews = Sidecar.start(List.of(server), 1)) {
                assertEquals(DownstreamTlsMode.STRICT, reviews.mesh().config().listeners().get(0).tlsMode());
                int inbound = reviews.mesh().listenerPort("inbound");
                Path client = Files.createDirectories(dir.resolve("client"));
                Files.writeString(client.resolve("proxy.yaml"), """
                        apiVersion: meshproxy.io/v1alpha1
                        kind: Proxy
                        metadata: {name: productpage, namespace: default}
                        spec:
                          listeners:
                          - {name: outbound, address: 127.0.0.1, port: 0, direction: OUTBOUND}
                          identity:
                            certificateChain: %s
                            privateKey: %s
                            trustBundle: %s
                        ---
                        apiVersion: networking.istio.io/v1
                        kind: ServiceEntry
                        metadata: {name: reviews}
                        spec:
                          hosts: [reviews.default.svc.cluster.local]
                          ports: [{number: 9080, name: http, protocol: HTTP}]
                          resolution: STATIC
                          endpoints:
                          - {address: 127.0.0.1, ports: {http: %d}}
                        ---
                        apiVersion: networking.istio.io/v1
                        kind: DestinationRule
                        metadata: {name: reviews}
                        spec:
                          host: reviews
                          trafficPolicy:
                            tls: {mode: ISTIO_MUTUAL}
                        """.formatted(certs.resolve("default-productpage/cert-chain.pem"),
                        certs.resolve("default-productpage/key.pem"), certs.resolve("root-cert.pem"), inbound));
                try (Sidecar productpage = Sidecar.start(List.of(client), 1);
                     RawHttp c = new RawHttp(productpage.mesh().listenerPort("outbound"));
                     RawHttp plain = new RawHttp(inbound)) {
                    RawHttp.Response r = c.send("GET /headers HTTP/1.1\r\nHost: reviews:9080\r\n\r\n").read();
                    assertEquals(200, r.status(), r.text());
                    assertEquals("reviews-app", r.headers().get("x-upstream"));
                    assertTrue(r.text().contains(
                            "x-forwarded-client-cert: URI=spiffe://cluster.local/ns/default/sa/productpage"), r.text());
                    plain.send("GET /headers HTTP/1.1\r\nHost: reviews\r\n\r\n");
                    assertTrue(plain.closedByPeer(), "STRICT: a plaintext client gets no answer");
                    assertEquals(1, app.requestsReceived());
                }
            }
        }
    }
}
