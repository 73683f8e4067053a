package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.core.upstream.ClusterStats;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Per-try timeouts, the route timeout across attempts, grpc-timeout deadlines and the stream idle timeout. */
class RetryTimeoutsTest {

    static ProxyConfig config(RouteAction action, ClusterConfig.Builder cluster, Duration streamIdle) {
        RouteConfiguration routes = RouteConfiguration.builder().name("routes").virtualHost(VirtualHost.builder()
                .name("all").domain("*").route(Route.builder().name("default").action(action).build()).build()).build();
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(routes).streamIdleTimeout(streamIdle).build())
                .cluster(cluster.name("backend").build())
                .build();
    }

    @Test
    void aPerTryTimeoutIsRetriedOnAnotherEndpoint() throws Exception {
        RequestLogs logs = new RequestLogs();
        RetryPolicy retry = RetryPolicy.builder().numRetries(2).retryOn(RetryOn.FIVE_XX)
                .perTryTimeout(Duration.ofMillis(200)).build();
        try (TestUpstream slow = TestUpstream.start("slow").delayEverything(30_000);
             TestUpstream fast = TestUpstream.start("fast");
             MeshProxy proxy = MeshProxy.builder().requestLogListener(logs)
                     .config(config(RouteAction.builder().cluster("backend").retryPolicy(retry).build(),
                             RetryTest.endpoints(UpstreamProtocol.HTTP1, slow.port(), fast.port()), null))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            for (int i = 0; i < 4; i++) {
                RawHttp.Response r = c.send(RetryTest.get("/x")).read();
                assertEquals(200, r.status());
                assertEquals("fast", r.headers().get("x-upstream"));
            }
            ClusterStats stats = proxy.clusters().get("backend").stats();
            assertEquals(slow.requestsReceived(), stats.upstreamRqPerTryTimeout.sum());
            assertTrue(slow.requestsReceived() >= 1);
            assertEquals(0, stats.upstreamRqTimeout.sum());
            assertEquals("-", logs.awaitPath("/x").responseFlags());
        }
    }

    @Test
    void theRouteTimeoutSpansEveryAttempt() throws Exception {
        RequestLogs logs = new RequestLogs();
        RetryPolicy retry = RetryPolicy.builder().numRetries(100).retryOn(RetryOn.FIVE_XX)
                .perTryTimeout(Duration.ofMillis(100)).build();
        try (TestUpstream slow = TestUpstream.start("slow").delayEverything(30_000);
             MeshProxy proxy = MeshProxy.builder().requestLogListener(logs)
                     .config(config(RouteAction.builder().cluster("backend").retryPolicy(retry)
                                     .timeout(Duration.ofMillis(700)).build(),
                             RetryTest.endpoints(UpstreamProtocol.HTTP1, slow.port()), null))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            RawHttp.Response r = c.send(RetryTest.get("/x")).read();
            assertEquals(504, r.status());
            assertEquals("upstream request timeout", r.text());
            assertEquals("UT", logs.awaitPath("/x").responseFlags(), "the route timeout ended it, not the retry limit");
            ClusterStats stats = proxy.clusters().get("backend").stats();
            assertEquals(1, stats.upstreamRqTimeout.sum());
            assertTrue(slow.requestsReceived() < 100, "far fewer than 101 attempts fit in the route timeout");
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> proxy.clusters().get("backend").resources().activeRequests() == 0);
        }
    }

    @Test
    void aGrpcTimeoutIsHonouredAndShortenedForTheUpstream() throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("up");
             MeshProxy proxy = MeshProxy.builder().requestLogListener(logs)
                     .config(config(RouteAction.to("backend"),
                             RetryTest.endpoints(UpstreamProtocol.HTTP2, up.port()), null))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            RawHttp.Response r = c.send("GET /headers HTTP/1.1\r\nHost: b\r\ngrpc-timeout: 5S\r\n\r\n").read();
            String seen = r.text().lines().filter(l -> l.startsWith("grpc-timeout: ")).findFirst().orElseThrow();
            long ms = Long.parseLong(seen.substring("grpc-timeout: ".length(), seen.length() - 1));
            assertTrue(seen.endsWith("m") && ms <= 5000 && ms > 0, "the deadline left, in milliseconds: " + seen);

            r = c.send("GET /delay/30000 HTTP/1.1\r\nHost: b\r\ngrpc-timeout: 300m\r\n\r\n").read();
            assertEquals(504, r.status(), "no route timeout, but the client's deadline passed");
            assertEquals("UT", logs.awaitPath("/delay").responseFlags());
        }
    }

    @Test
    void aGrpcRequestGetsItsLocalRepliesAsGrpcStatuses() throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("up");
             MeshProxy proxy = MeshProxy.builder().requestLogListener(logs)
                     .config(config(RouteAction.to("backend"),
                             RetryTest.endpoints(UpstreamProtocol.HTTP2, up.port()), null))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            // The deadline passes at the proxy: DEADLINE_EXCEEDED (Envoy's answer), not UNAVAILABLE from a 504.
            RawHttp.Response r = c.send("POST /delay/30000 HTTP/1.1\r\nHost: b\r\ncontent-type: application/grpc\r\n"
                    + "grpc-timeout: 300m\r\ncontent-length: 0\r\n\r\n").read();
            assertEquals(200, r.status(), "gRPC's trailers-only form");
            assertEquals("application/grpc", r.headers().get("content-type"));
            assertEquals("4", r.headers().get("grpc-status"));
            assertEquals("UT", logs.awaitPath("/delay").responseFlags());
            assertEquals("", r.text());
        }
        // No endpoint answers: UNAVAILABLE, with the details as grpc-message.
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (MeshProxy proxy = MeshProxy.builder()
                     .config(config(RouteAction.to("backend"),
                             RetryTest.endpoints(UpstreamProtocol.HTTP2, closedPort), null))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            RawHttp.Response r = c.send("POST /x HTTP/1.1\r\nHost: b\r\ncontent-type: application/grpc+proto\r\n"
                    + "content-length: 0\r\n\r\n").read();
            assertEquals(200, r.status());
            assertEquals("14", r.headers().get("grpc-status"));
            assertTrue(r.headers().get("grpc-message") != null && !r.headers().get("grpc-message").isEmpty());
            // The same failure without gRPC stays an HTTP 503.
            assertEquals(503, c.send("GET /x HTTP/1.1\r\nHost: b\r\n\r\n").read().status());
        }
    }

    @Test
    void aStreamWithNoBytesMovingEndsWithSI() throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("up");
             MeshProxy proxy = MeshProxy.builder().requestLogListener(logs)
                     .config(config(RouteAction.to("backend"),
                             RetryTest.endpoints(UpstreamProtocol.HTTP1, up.port()), Duration.ofMillis(300)))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            assertEquals(200, c.send(RetryTest.get("/delay/10")).read().status(), "a quick answer is fine");
            RawHttp.Response r = c.send(RetryTest.get("/delay/30000")).read();
            assertEquals(408, r.status());
            assertEquals("stream_idle_timeout", r.text());
            assertEquals("SI", logs.await(l -> "/delay/30000".equals(l.path())).responseFlags());
        }
    }
}
