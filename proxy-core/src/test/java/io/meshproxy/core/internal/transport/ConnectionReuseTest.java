package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** Upstream connections are pooled and reused: HTTP/1.1 keep-alive, HTTP/2 multiplexing within the peer's limit. */
class ConnectionReuseTest {

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void thousandSequentialRequestsOnOneDownstreamConnectionReuseUpstreamConnections(UpstreamProtocol protocol)
            throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(protocol, up)).eventLoopThreads(2).build().start();
             RawHttp raw = new RawHttp(proxy.listenerPort("in"))) {
            for (int i = 0; i < 1000; i++) {
                raw.send("GET /r" + i + " HTTP/1.1\r\nHost: svc\r\n\r\n");
                RawHttp.Response r = raw.read();
                assertEquals(200, r.status(), "request " + i);
                assertEquals("a", r.text());
            }
            assertEquals(1000, up.requestsReceived());
            assertTrue(up.connectionsAccepted() <= 4, "upstream connections: " + up.connectionsAccepted());
            assertEquals(1, proxy.listenerConnections().get("in"), "one downstream connection served them all");
        }
    }

    @Test
    void jdkKeepAliveClientReusesUpstreamConnections() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, up))
                     .eventLoopThreads(2).build().start()) {
            HttpClient client = HttpClient.newBuilder().version(Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/echo");
            for (int i = 0; i < 300; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofString("n" + i)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals("n" + i, r.body());
            }
            assertTrue(up.connectionsAccepted() <= 4, "upstream connections: " + up.connectionsAccepted());
        }
    }

    @Test
    void http2UpstreamMultiplexesWithinMaxConcurrentStreams() throws Exception {
        try (TestUpstream up = TestUpstream.startWithMaxStreams("a", 10);
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP2, up))
                     .eventLoopThreads(1).build().start()) {
            HttpClient client = HttpClient.newBuilder().version(Version.HTTP_2).build();
            URI base = URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/");
            // establish the h2c connection first so the 50 requests are streams of one downstream connection
            assertEquals(200, client.send(HttpRequest.newBuilder(base.resolve("/warm")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                all.add(client.sendAsync(HttpRequest.newBuilder(base.resolve("/delay/200")).timeout(Duration.ofSeconds(20))
                        .build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : all) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode());
                assertEquals("delayed 200", r.body());
            }
            int conns = up.connectionsAccepted();
            assertTrue(up.maxConcurrentRequests() <= 10 * conns,
                    "max in flight " + up.maxConcurrentRequests() + " over " + conns + " connections");
            assertTrue(conns < 50, "multiplexed: " + conns + " connections for 51 requests");
            assertEquals(51, up.requestsReceived());
        }
    }
}
