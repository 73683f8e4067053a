package io.meshproxy.core.internal.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Connection-level timeouts: upstream idle, upstream connect, downstream idle. */
class TimeoutsTest {

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void idleUpstreamConnectionsCloseAfterTheClustersIdleTimeout(UpstreamProtocol protocol) throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(ProxyConfig.builder()
                     .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("backend")).build())
                     .cluster(ClusterConfig.builder().name("backend").protocol(protocol)
                             .endpoint("127.0.0.1", up.port()).idleTimeout(Duration.ofMillis(300)).build())
                     .build()).build().start()) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            var host = proxy.clusters().get("backend").hosts().get(0);
            assertEquals(1, host.openConnections(), "one pooled upstream connection after the request");
            await("the idle upstream connection was closed").atMost(Duration.ofSeconds(10))
                    .until(() -> host.openConnections() == 0);
            // and the cluster still serves, on a new connection
            assertEquals(200, client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/x")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(2, up.connectionsAccepted());
        }
    }

    /**
     * A listening socket whose accept queue is full and never drained: on Linux further SYNs are dropped, so
     * a connect neither succeeds nor is refused, and only the cluster's connect timeout ends it (503 UF).
     */
    @Test
    void connectTimeoutAnswers503UF() throws Exception {
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket blackhole = new ServerSocket()) {
            blackhole.bind(new InetSocketAddress("127.0.0.1", 0), 1);
            for (int i = 0; i < 8; i++) { // fill the accept queue; later connects hang
                Socket s = new Socket();
                try {
                    s.connect(blackhole.getLocalSocketAddress(), 200);
                    fillers.add(s);
                } catch (java.io.IOException full) {
                    s.close();
                    break;
                }
            }
            RequestLogs logs = new RequestLogs();
            try (MeshProxy proxy = MeshProxy.builder().config(ProxyConfig.builder()
                    .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("backend")).build())
                    .cluster(ClusterConfig.builder().name("backend").endpoint("127.0.0.1", blackhole.getLocalPort())
                            .connectTimeout(Duration.ofMillis(300)).build())
                    .build()).requestLogListener(logs).build().start()) {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/x"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(503, r.statusCode());
                RequestLog log = logs.await(l -> true);
                assertEquals("UF", log.responseFlags());
                assertTrue(r.body().contains("connection failure"), r.body());
            }
        } finally {
            for (Socket s : fillers) {
                s.close();
            }
        }
    }

    @Test
    void idleDownstreamConnectionIsClosedAfterTheListenersIdleTimeout() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(ProxyConfig.builder()
                     .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("backend"))
                             .idleTimeout(Duration.ofMillis(300)).build())
                     .cluster(Configs.cluster("backend", UpstreamProtocol.HTTP1, up))
                     .build()).build().start();
             Socket s = new Socket("127.0.0.1", proxy.listenerPort("in"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /x HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            int n = in.read(buf);
            assertTrue(new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"));
            // nothing more is sent; the proxy closes the idle keep-alive connection (read sees EOF, not a timeout)
            int b;
            do {
                b = in.read(buf);
            } while (b > 0);
            assertEquals(-1, b);
        }
    }
}
