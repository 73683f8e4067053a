package io.meshproxy.core.internal.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ConnectionPoolConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.TcpKeepalive;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.core.upstream.Cluster;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Envoy's circuit-breaker thresholds in the upstream pools, against real upstream servers: maxConnections
 * (cluster-wide, over every event loop), maxPendingRequests with its fail-fast 503 UO, and the per-connection
 * limits maxRequestsPerConnection and maxConcurrentStreams. The upstream's {@code /hold} requests are
 * answered only when the test says so, so "the overflowed requests failed while the admitted ones were still
 * in flight" holds by construction, not by timing. Every test ends with the cluster's counters back at zero.
 */
class UpstreamPoolLimitsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static ProxyConfig config(UpstreamProtocol protocol, CircuitBreakers limits, ConnectionPoolConfig pool,
            TestUpstream... upstreams) {
        // a short idle timeout, so the connection counter returns to zero at the end of the test
        return config(protocol, limits, pool, Duration.ofMillis(300), upstreams);
    }

    private static ProxyConfig config(UpstreamProtocol protocol, CircuitBreakers limits, ConnectionPoolConfig pool,
            Duration idleTimeout, TestUpstream... upstreams) {
        ClusterConfig.Builder b = ClusterConfig.builder().name("backend").protocol(protocol)
                .circuitBreakers(limits).connectionPool(pool).idleTimeout(idleTimeout);
        for (TestUpstream u : upstreams) {
            b.endpoint("127.0.0.1", u.port());
        }
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("backend")).build())
                .cluster(b.build())
                .build();
    }

    /** One stream per HTTP/2 connection, so both protocols have one request per connection at a time. */
    private static ConnectionPoolConfig onePerConnection(UpstreamProtocol protocol) {
        return protocol == UpstreamProtocol.HTTP2 ? new ConnectionPoolConfig(0, 1, null) : ConnectionPoolConfig.DEFAULT;
    }

    private static CircuitBreakers limits(int maxConnections, int maxPending) {
        return CircuitBreakers.DEFAULT.withMaxConnections(maxConnections).withMaxPendingRequests(maxPending);
    }

    private static CompletableFuture<HttpResponse<String>> get(HttpClient client, int port, String path) {
        return client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpClient http11() {
        return HttpClient.newBuilder().version(Version.HTTP_1_1).build();
    }

    /** Awaits {@code condition}; on timeout fails with {@code state}, so a rare failure says what it saw. */
    private static void awaitOrExplain(java.util.function.BooleanSupplier condition, java.util.function.Supplier<String> state) {
        try {
            await().atMost(WAIT).until(condition::getAsBoolean);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("timed out: " + state.get(), e);
        }
    }

    private static void assertCountersBackToZero(Cluster cluster) {
        await().atMost(WAIT).until(() -> cluster.resources().connections() == 0
                && cluster.resources().pendingRequests() == 0);
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void overflowingPendingRequestsFailsAtOnceWithUoAndTheUpstreamSeesAtMostMaxConnections(UpstreamProtocol protocol)
            throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(protocol, limits(2, 2), onePerConnection(protocol), up))
                     .requestLogListener(logs).eventLoopThreads(1).build().start()) {
            Cluster cluster = proxy.clusters().get("backend");
            int port = proxy.listenerPort("in");
            HttpClient client = http11();

            List<CompletableFuture<HttpResponse<String>>> admitted = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                admitted.add(get(client, port, "/hold"));
            }
            await().atMost(WAIT).until(() -> up.heldRequests() == 2);
            assertEquals(2, cluster.resources().connections());
            assertEquals(0, cluster.resources().pendingRequests());

            List<CompletableFuture<HttpResponse<String>>> more = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                more.add(get(client, port, "/hold"));
            }
            // two of them wait as pending, the other six fail while the first two are still held upstream
            await().atMost(WAIT).until(() -> more.stream().filter(CompletableFuture::isDone).count() == 6
                    && cluster.resources().pendingRequests() == 2);
            for (CompletableFuture<HttpResponse<String>> f : more) {
                if (f.isDone()) {
                    assertEquals(503, f.get().statusCode());
                    assertEquals("upstream overflow", f.get().body());
                }
            }
            for (int i = 0; i < 6; i++) {
                assertTrue(logs.await(l -> l.responseFlags().contains("UO")).responseCode() == 503);
            }
            assertFalse(admitted.get(0).isDone() || admitted.get(1).isDone(), "the admitted requests are still held");
            assertEquals(2, up.requestsReceived(), "the overflowed requests never reached the upstream");
            assertEquals(6, cluster.stats().upstreamRqPendingOverflow.sum());
            assertTrue(cluster.stats().upstreamCxOverflow.sum() >= 1, "connections were wanted beyond the limit");

            up.releaseHeld();
            for (CompletableFuture<HttpResponse<String>> f : admitted) {
                assertEquals("released", f.get(10, TimeUnit.SECONDS).body());
            }
            await().atMost(WAIT).until(() -> up.heldRequests() == 2 && up.requestsReceived() == 4);
            assertEquals(0, cluster.resources().pendingRequests(), "the pending requests got their connections");
            up.releaseHeld();
            int ok = 0;
            for (CompletableFuture<HttpResponse<String>> f : more) {
                HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
                if (r.statusCode() == 200) {
                    assertEquals("released", r.body());
                    ok++;
                }
            }
            assertEquals(2, ok, "two pending requests were served after the first two");
            assertEquals(2, up.connectionsAccepted(), "never more than maxConnections upstream connections");
            assertEquals(2, cluster.stats().upstreamCxTotal.sum());
            assertCountersBackToZero(cluster);
        }
    }

    @Test
    void http2StreamsPerConnectionAreThePeersLimitWhenItIsLower() throws Exception {
        try (TestUpstream up = TestUpstream.startWithMaxStreams("a", 1);
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(UpstreamProtocol.HTTP2, limits(1, 10), new ConnectionPoolConfig(0, 5, null), up))
                     .eventLoopThreads(1).build().start()) {
            Cluster cluster = proxy.clusters().get("backend");
            HttpClient client = http11();
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                all.add(get(client, proxy.listenerPort("in"), "/hold"));
            }
            await().atMost(WAIT).until(() -> up.heldRequests() == 1 && cluster.resources().pendingRequests() == 2);
            // Release whatever is held until all three are answered; the upstream must never hold two at once.
            awaitOrExplain(() -> {
                up.releaseHeld();
                return all.stream().allMatch(CompletableFuture::isDone);
            }, () -> "held " + up.heldRequests() + ", received " + up.requestsReceived() + ", pending "
                    + cluster.resources().pendingRequests() + ", connections " + cluster.resources().connections()
                    + ", accepted " + up.connectionsAccepted() + ", responses " + all);
            for (CompletableFuture<HttpResponse<String>> f : all) {
                assertEquals(200, f.get(10, TimeUnit.SECONDS).statusCode());
            }
            assertEquals(1, up.maxConcurrentRequests(), "one stream at a time: the peer's limit");
            assertEquals(1, up.connectionsAccepted());
            assertCountersBackToZero(cluster);
        }
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void maxRequestsPerConnectionClosesTheConnectionAfterThatManyRequests(UpstreamProtocol protocol) throws Exception {
        int perConnection = protocol == UpstreamProtocol.HTTP1 ? 1 : 2;
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(protocol, CircuitBreakers.DEFAULT, new ConnectionPoolConfig(perConnection, 0, null), up))
                     .eventLoopThreads(1).build().start();
             RawHttp raw = new RawHttp(proxy.listenerPort("in"))) {
            Cluster cluster = proxy.clusters().get("backend");
            for (int i = 0; i < 6; i++) {
                raw.send("GET /r" + i + " HTTP/1.1\r\nHost: svc\r\n\r\n");
                assertEquals(200, raw.read().status(), "request " + i);
            }
            assertEquals(6, up.requestsReceived());
            assertEquals(6 / perConnection, up.connectionsAccepted());
            assertEquals(6 / perConnection, cluster.stats().upstreamCxTotal.sum());
            assertCountersBackToZero(cluster);
        }
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void aPendingRequestWhoseClientLeavesGivesBackItsPendingUnit(UpstreamProtocol protocol) throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(protocol, limits(1, 1), onePerConnection(protocol), up))
                     .requestLogListener(logs).eventLoopThreads(1).build().start()) {
            Cluster cluster = proxy.clusters().get("backend");
            int port = proxy.listenerPort("in");
            HttpClient client = http11();
            CompletableFuture<HttpResponse<String>> first = get(client, port, "/hold");
            await().atMost(WAIT).until(() -> up.heldRequests() == 1);

            try (RawHttp leaving = new RawHttp(port)) {
                leaving.send("GET /leaving HTTP/1.1\r\nHost: svc\r\n\r\n");
                await().atMost(WAIT).until(() -> cluster.resources().pendingRequests() == 1);
            }
            // the unit comes back while the connection is still held, not when the queue is next served
            await().atMost(WAIT).until(() -> cluster.resources().pendingRequests() == 0);
            assertTrue(logs.awaitPath("/leaving").responseFlags().contains("DC"));

            CompletableFuture<HttpResponse<String>> later = get(client, port, "/hold");
            await().atMost(WAIT).until(() -> cluster.resources().pendingRequests() == 1);
            assertEquals(0, cluster.stats().upstreamRqPendingOverflow.sum(), "the later request was not refused");
            up.releaseHeld();
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            await().atMost(WAIT).until(() -> up.heldRequests() == 1);
            up.releaseHeld();
            assertEquals("released", later.get(10, TimeUnit.SECONDS).body());
            assertEquals(2, up.requestsReceived(), "the request that left never reached the upstream");
            assertCountersBackToZero(cluster);
        }
    }

    /**
     * maxConnections 1 over two event loops: a request on the second loop waits while the first loop's
     * connection is busy, and proceeds when that connection is given up ({@code idle}: the first request ends
     * before the second arrives, and the idle connection is reclaimed; otherwise it ends while the second waits).
     */
    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void aWaiterOnOneEventLoopProceedsWhenAConnectionOnTheOtherLoopCloses(UpstreamProtocol protocol) throws Exception {
        crossLoop(protocol, false);
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void anIdleConnectionOnOneEventLoopIsGivenUpForARequestOnTheOther(UpstreamProtocol protocol) throws Exception {
        crossLoop(protocol, true);
    }

    private void crossLoop(UpstreamProtocol protocol, boolean idle) throws Exception {
        Map<String, String> threads = new ConcurrentHashMap<>();
        Cluster cluster;
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     // idle connections stay (1 h) unless given up for the waiting loop
                     .config(config(protocol, limits(1, 10), ConnectionPoolConfig.DEFAULT, Duration.ofHours(1), up))
                     .filter((ctx, req, next) -> {
                         threads.put(req.path(), Thread.currentThread().getName());
                         return next.serve(ctx, req);
                     })
                     .eventLoopThreads(2).build().start();
             RawHttp first = new RawHttp(proxy.listenerPort("in"));
             RawHttp second = new RawHttp(proxy.listenerPort("in"))) {
            cluster = proxy.clusters().get("backend");
            if (idle) {
                first.send("GET /first HTTP/1.1\r\nHost: svc\r\n\r\n");
                assertEquals(200, first.read().status());
                assertEquals(1, cluster.resources().connections(), "the first connection stays open, idle");
                second.send("GET /second HTTP/1.1\r\nHost: svc\r\n\r\n");
            } else {
                first.send("GET /hold HTTP/1.1\r\nHost: svc\r\n\r\n");
                await().atMost(WAIT).until(() -> up.heldRequests() == 1);
                second.send("GET /second HTTP/1.1\r\nHost: svc\r\n\r\n");
                await().atMost(WAIT).until(() -> cluster.resources().pendingRequests() == 1);
                assertEquals(1, up.requestsReceived(), "the second request waits: one connection at most");
                up.releaseHeld();
                assertEquals("released", first.read().text());
            }
            RawHttp.Response r = second.read();
            assertEquals(200, r.status());
            assertEquals("a", r.text());
            String firstPath = idle ? "/first" : "/hold";
            assertNotEquals(threads.get(firstPath), threads.get("/second"),
                    "the two downstream connections are on different event loops: " + threads);
            assertTrue(cluster.stats().upstreamCxOverflow.sum() >= 1);
            assertEquals(2, up.connectionsAccepted(), "the second loop opened its own connection");
            assertEquals(1, cluster.resources().connections());
        }
        assertCountersBackToZero(cluster); // closing the proxy closed the idle connection
    }

    /** Istio's tcp.tcpKeepalive: SO_KEEPALIVE on the upstream socket, and the probe timing where epoll runs. */
    @Test
    void upstreamBootstrapSetsTcpKeepalive() throws Exception {
        EventLoopGroup group = Transport.newGroup(1, "keepalive-test");
        try (TestUpstream up = TestUpstream.start("a")) {
            EventLoop loop = group.next();
            Channel plain = Transport.upstreamBootstrap(loop, Duration.ofSeconds(5), null)
                    .connect("127.0.0.1", up.port()).sync().channel();
            Channel probed = Transport.upstreamBootstrap(loop, Duration.ofSeconds(5),
                    new TcpKeepalive(Duration.ofSeconds(30), Duration.ofMillis(4500), 4))
                    .connect("127.0.0.1", up.port()).sync().channel();
            try {
                assertFalse(plain.config().getOption(ChannelOption.SO_KEEPALIVE));
                assertTrue(probed.config().getOption(ChannelOption.SO_KEEPALIVE));
                if (Transport.name().equals("epoll")) {
                    assertEquals(30, probed.config().getOption(EpollChannelOption.TCP_KEEPIDLE));
                    assertEquals(5, probed.config().getOption(EpollChannelOption.TCP_KEEPINTVL),
                            "whole seconds, rounded up");
                    assertEquals(4, probed.config().getOption(EpollChannelOption.TCP_KEEPCNT));
                }
            } finally {
                plain.close().sync();
                probed.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
