package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.RetryBudget;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.core.upstream.ClusterStats;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Retries as Envoy does them: on the policy's conditions, to another endpoint, with the body replayed. */
class RetryTest {

    static ProxyConfig config(RetryPolicy retry, ClusterConfig.Builder cluster) {
        return routed(RouteAction.builder().cluster("backend").retryPolicy(retry).build(), cluster);
    }

    static ProxyConfig routed(RouteAction action, ClusterConfig.Builder cluster) {
        RouteConfiguration routes = RouteConfiguration.builder().name("routes").virtualHost(VirtualHost.builder()
                .name("all").domain("*").route(Route.builder().name("default").action(action).build()).build()).build();
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(routes).build())
                .cluster(cluster.name("backend").build())
                .build();
    }

    static ClusterConfig.Builder endpoints(UpstreamProtocol protocol, int... ports) {
        ClusterConfig.Builder b = ClusterConfig.builder().protocol(protocol);
        for (int p : ports) {
            b.endpoint("127.0.0.1", p);
        }
        return b;
    }

    static RetryPolicy on(int retries, RetryOn first, RetryOn... rest) {
        return RetryPolicy.builder().numRetries(retries).retryOn(first, rest).build();
    }

    static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: backend\r\n\r\n";
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void aFailingEndpointIsRetriedOnAnotherAndEveryRequestSucceeds(UpstreamProtocol protocol) throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream a = TestUpstream.start("a"); TestUpstream b = TestUpstream.start("b");
             TestUpstream bad = TestUpstream.start("bad").answerEverythingWith(503);
             MeshProxy proxy = MeshProxy.builder().requestLogListener(logs)
                     .config(config(on(3, RetryOn.FIVE_XX), endpoints(protocol, a.port(), bad.port(), b.port())))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            for (int i = 0; i < 300; i++) {
                RawHttp.Response r = c.send(get("/headers")).read();
                assertEquals(200, r.status(), "request " + i);
                String upstream = r.headers().get("x-upstream");
                assertTrue(upstream.equals("a") || upstream.equals("b"), upstream);
                assertTrue(r.text().contains("x-envoy-attempt-count: "), "the upstream sees the attempt count");
            }
            ClusterStats stats = proxy.clusters().get("backend").stats();
            assertTrue(bad.requestsReceived() >= 50, "round robin keeps sending the bad endpoint its share");
            assertEquals(bad.requestsReceived(), stats.upstreamRqRetry.sum(), "each 503 was retried once");
            assertEquals(stats.upstreamRqRetry.sum(), stats.upstreamRqRetrySuccess.sum());
            assertEquals(300 + bad.requestsReceived(), stats.upstreamRqTotal.sum());
            RequestLog log = logs.awaitPath("/headers");
            assertEquals("-", log.responseFlags(), "a retried attempt leaves no flag on a request that succeeded");
        }
    }

    @Test
    void theRetryGoesToAnEndpointNotTriedYetAndCarriesTheAttemptCount() throws Exception {
        try (TestUpstream good = TestUpstream.start("good");
             TestUpstream bad1 = TestUpstream.start("bad1").answerEverythingWith(503);
             TestUpstream bad2 = TestUpstream.start("bad2").answerEverythingWith(502);
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(on(2, RetryOn.GATEWAY_ERROR),
                             endpoints(UpstreamProtocol.HTTP1, bad1.port(), bad2.port(), good.port())))
                     .eventLoopThreads(1).build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            for (int i = 0; i < 60; i++) {
                RawHttp.Response r = c.send(get("/headers")).read();
                assertEquals(200, r.status(), "two retries reach the one good endpoint whatever the first pick");
                String text = r.text();
                int attempt = Integer.parseInt(text.substring(text.indexOf("x-envoy-attempt-count: ")
                        + "x-envoy-attempt-count: ".length()).lines().findFirst().orElseThrow().trim());
                assertTrue(attempt >= 1 && attempt <= 3, text);
            }
            // 60 requests, each tried on distinct endpoints until the good one: never a bad endpoint twice per request
            assertEquals(60, good.requestsReceived());
            assertTrue(bad1.requestsReceived() <= 60 && bad2.requestsReceived() <= 60);
        }
    }

    @Test
    void theRequestBodyIsReplayedToTheNextEndpoint() throws Exception {
        byte[] body = new byte[200_000];
        TestUpstream.fillPattern(body, 0, body.length);
        try (TestUpstream good = TestUpstream.start("good");
             TestUpstream bad = TestUpstream.start("bad").answerEverythingWith(503);
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(on(1, RetryOn.FIVE_XX), endpoints(UpstreamProtocol.HTTP1, bad.port(), good.port())))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            for (int i = 0; i < 10; i++) {
                c.send(("POST /sink HTTP/1.1\r\nHost: backend\r\ncontent-length: " + body.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                c.send(body);
                RawHttp.Response r = c.read();
                assertEquals(200, r.status());
                assertEquals(body.length + " " + TestUpstream.patternSha256(body.length), r.text(),
                        "the endpoint after the retry got the whole body, byte for byte");
            }
            assertTrue(bad.requestsReceived() >= 4, "the bad endpoint was tried first about half the time");
        }
    }

    @Test
    void aBodyTooLargeToKeepIsSentOnceAndNotRetried() throws Exception {
        RetryPolicy small = RetryPolicy.builder().numRetries(3).retryOn(RetryOn.FIVE_XX).bufferLimitBytes(1024).build();
        try (TestUpstream bad = TestUpstream.start("bad").answerEverythingWith(503);
             MeshProxy proxy = MeshProxy.builder().config(config(small, endpoints(UpstreamProtocol.HTTP1, bad.port())))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            // a declared length over the limit: never kept at all
            c.send(("POST /sink HTTP/1.1\r\nHost: backend\r\ncontent-length: 5000\r\n\r\n" + "x".repeat(5000))
                    .getBytes(StandardCharsets.US_ASCII));
            assertEquals(503, c.read().status());
            // chunked, outgrowing the limit while it streams
            String chunk = "y".repeat(3000);
            c.send(("POST /sink HTTP/1.1\r\nHost: backend\r\ntransfer-encoding: chunked\r\n\r\n"
                    + Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertEquals(503, c.read().status());
            ClusterStats stats = proxy.clusters().get("backend").stats();
            assertEquals(2, bad.requestsReceived(), "each request went upstream once");
            assertEquals(0, stats.upstreamRqRetry.sum());
            assertEquals(2, stats.retryOrShadowAbandoned.sum(), "the abandoned retries are counted");
            // a small body is still retried (and fails again: 1 + 3 attempts)
            c.send("POST /sink HTTP/1.1\r\nHost: backend\r\ncontent-length: 5\r\n\r\nhello".getBytes(StandardCharsets.US_ASCII));
            assertEquals(503, c.read().status());
            assertEquals(6, bad.requestsReceived());
        }
    }

    @Test
    void connectFailuresAreRetriedOnTheOtherEndpoints() throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = s.getLocalPort(); // bound then closed: connecting is refused
        }
        try (TestUpstream a = TestUpstream.start("a"); TestUpstream b = TestUpstream.start("b");
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(on(2, RetryOn.CONNECT_FAILURE), endpoints(UpstreamProtocol.HTTP1, a.port(), dead, b.port())))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            for (int i = 0; i < 150; i++) {
                assertEquals(200, c.send(get("/x")).read().status(), "request " + i);
            }
            assertTrue(proxy.clusters().get("backend").stats().upstreamRqRetry.sum() >= 40);
        }
    }

    @Test
    void anEndpointStoppedMidTestFailsOnlyWhatWasInFlightOnIt() throws Exception {
        int clients = 8;
        int perClient = 250;
        TestUpstream a = TestUpstream.start("a");
        TestUpstream b = TestUpstream.start("b");
        TestUpstream victim = TestUpstream.start("victim");
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        // A route timeout: a request written to the server as it stops may get neither an answer nor a close;
        // it is one of those in flight and ends 504 UT instead of waiting for the stream idle timeout.
        RouteAction action = RouteAction.builder().cluster("backend").timeout(Duration.ofSeconds(2))
                .retryPolicy(on(3, RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM)).build();
        try (MeshProxy proxy = MeshProxy.builder()
                .config(routed(action,
                        // Istio's thresholds (no limit on retries) without a budget: with eight clients and instant
                        // connect failures, Envoy's default floor of 3 concurrent retries would refuse some.
                        endpoints(UpstreamProtocol.HTTP1, a.port(), victim.port(), b.port())
                                .circuitBreakers(CircuitBreakers.UNLIMITED.withRetryBudget(null))))
                .build().start()) {
            AtomicInteger done = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                futures.add(pool.submit(() -> {
                    try (RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
                        for (int i = 0; i < perClient; i++) {
                            if (c.send(get("/x")).read().status() != 200) {
                                failed.incrementAndGet();
                            }
                            if (done.incrementAndGet() == clients * perClient / 3) {
                                victim.close(); // its server stops: listening socket and connections
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            assertTrue(failed.get() <= clients,
                    "only requests in flight on the stopped endpoint's connections may fail: " + failed.get());
            ClusterStats stats = proxy.clusters().get("backend").stats();
            assertTrue(stats.upstreamRqRetry.sum() > 0, "connect failures after the stop were retried");
        } finally {
            pool.shutdownNow();
            a.close();
            b.close();
            victim.close();
        }
    }

    @Test
    void everyEndpointFailingRetriesStayWithinTheBudget() throws Exception {
        // The same load twice: unbudgeted (maxRetries unlimited, no budget) and with Envoy's default budget.
        long unbudgeted = retriesUnderFailingLoad(new CircuitBreakers(1024, 1024, 1024, Integer.MAX_VALUE, null));
        long budgeted = retriesUnderFailingLoad(CircuitBreakers.DEFAULT.withMaxRetries(Integer.MAX_VALUE));
        int requests = 16 * 40;
        assertEquals(3L * requests, unbudgeted, "without a budget every failed request is retried three times");
        assertTrue(budgeted * 3 < unbudgeted,
                "the budget keeps retries to a fraction: " + budgeted + " retries for " + requests + " requests");
    }

    private static long retriesUnderFailingLoad(CircuitBreakers limits) throws Exception {
        int clients = 16;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try (TestUpstream x = TestUpstream.start("x").answerEverythingWith(503);
             TestUpstream y = TestUpstream.start("y").answerEverythingWith(503);
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(on(3, RetryOn.FIVE_XX),
                             endpoints(UpstreamProtocol.HTTP1, x.port(), y.port()).circuitBreakers(limits)))
                     .build().start()) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                futures.add(pool.submit(() -> {
                    try (RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
                        for (int i = 0; i < 40; i++) {
                            assertEquals(503, c.send(get("/x")).read().status());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            ClusterStats stats = proxy.clusters().get("backend").stats();
            if (limits.retryBudget() != null) {
                assertTrue(stats.upstreamRqRetryOverflow.sum() > 0, "retries beyond the budget were refused");
            }
            assertEquals(0, proxy.clusters().get("backend").resources().activeRetries());
            return stats.upstreamRqRetry.sum();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void exhaustedRetriesAnswerTheLastResponseWithURX() throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream bad = TestUpstream.start("bad").answerEverythingWith(503);
             MeshProxy proxy = MeshProxy.builder().requestLogListener(logs)
                     .config(config(on(2, RetryOn.FIVE_XX), endpoints(UpstreamProtocol.HTTP1, bad.port())))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            RawHttp.Response r = c.send(get("/x")).read();
            assertEquals(503, r.status());
            assertEquals("bad", r.headers().get("x-upstream"), "the upstream's own last answer is passed on");
            assertEquals(3, bad.requestsReceived());
            assertEquals("URX", logs.awaitPath("/x").responseFlags());
            assertEquals(1, proxy.clusters().get("backend").stats().upstreamRqRetryLimitExceeded.sum());
        }
    }

    @Test
    void statusesNotNamedByTheConditionsAreNotRetried() throws Exception {
        try (TestUpstream up = TestUpstream.start("up");
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(RetryPolicy.builder().numRetries(3)
                             .retryOn(RetryOn.RETRIABLE_STATUS_CODES, RetryOn.RETRIABLE_4XX)
                             .retriableStatusCodes(java.util.Set.of(429)).build(),
                             endpoints(UpstreamProtocol.HTTP1, up.port())))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            assertEquals(500, c.send(get("/status/500")).read().status());
            assertEquals(1, up.requestsReceived());
            assertEquals(429, c.send(get("/status/429")).read().status());
            assertEquals(5, up.requestsReceived(), "429 is listed: 1 + 3 attempts");
            assertEquals(409, c.send(get("/status/409")).read().status());
            assertEquals(9, up.requestsReceived(), "409 is retriable-4xx");
        }
    }

    @Test
    void aRefusedHttp2StreamIsRetriedUnderIstiosDefaultPolicy() throws Exception {
        try (TestUpstream good = TestUpstream.start("good");
             TestUpstream refusing = TestUpstream.start("refusing").refuseEverything();
             MeshProxy proxy = MeshProxy.builder()
                     .config(config(RetryPolicy.ISTIO_DEFAULT,
                             endpoints(UpstreamProtocol.HTTP2, refusing.port(), good.port())))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            for (int i = 0; i < 40; i++) {
                RawHttp.Response r = c.send(get("/x")).read();
                assertEquals(200, r.status(), "request " + i);
                assertEquals("good", r.headers().get("x-upstream"));
            }
            assertTrue(refusing.requestsReceived() >= 10);
            assertEquals(refusing.requestsReceived(), proxy.clusters().get("backend").stats().upstreamRqRetry.sum());
        }
    }
}
