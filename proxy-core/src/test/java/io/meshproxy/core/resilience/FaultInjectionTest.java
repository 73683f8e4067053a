package io.meshproxy.core.resilience;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.FaultPolicy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.filter.RequestLogListener;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.testing.H2cClient;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fault injection end to end: Istio's {@code http[].fault} on a route, through a real listener to a real
 * upstream, with real clients. Delays are told apart by the DI flag in the request log, never by timing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FaultInjectionTest {

    /** Counts finished exchanges and the fault flags among them. */
    private static final class FlagCounter implements RequestLogListener {
        final AtomicInteger total = new AtomicInteger();
        final AtomicInteger delayed = new AtomicInteger();
        final AtomicInteger aborted = new AtomicInteger();

        @Override
        public void onRequestComplete(RequestLog log) {
            String flags = log.responseFlags();
            if (flags.contains("DI")) {
                delayed.incrementAndGet();
            }
            if (flags.contains("FI")) {
                aborted.incrementAndGet();
            }
            total.incrementAndGet();
        }
    }

    /** Mean ± 4.5 standard deviations of Binomial(n, p): a correct implementation falls outside ~1 in 150,000 runs. */
    private static void assertBinomial(String what, int count, int n, double p) {
        double mean = n * p;
        double sigma = Math.sqrt(n * p * (1 - p));
        double low = mean - 4.5 * sigma;
        double high = mean + 4.5 * sigma;
        assertTrue(count >= low && count <= high,
                what + ": " + count + " of " + n + ", expected within [" + low + ", " + high + "]");
    }

    @Test
    void abortAndDelayPercentagesLandWithinBinomialBoundsAndOnlyTheNonAbortedGoUpstream() throws Exception {
        int n = 2000;
        FaultPolicy fault = new FaultPolicy(new FaultPolicy.Delay(Duration.ofMillis(20), 10),
                FaultPolicy.Abort.http(503, 5));
        FlagCounter flags = new FlagCounter();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(ResilienceConfigs.config(up, UpstreamProtocol.HTTP1, null,
                             ResilienceConfigs.route("/", fault, null)))
                     .requestLogListener(flags).build().start()) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/faulty");
            Semaphore inFlight = new Semaphore(16);
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger aborted = new AtomicInteger();
            ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();
            for (int i = 0; i < n; i++) {
                inFlight.acquire();
                client.sendAsync(java.net.http.HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).whenComplete((r, err) -> {
                            if (err != null) {
                                unexpected.add(err.toString());
                            } else if (r.statusCode() == 200 && "a".equals(r.body())) {
                                ok.incrementAndGet();
                            } else if (r.statusCode() == 503 && "fault filter abort".equals(r.body())) {
                                aborted.incrementAndGet();
                            } else {
                                unexpected.add(r.statusCode() + " " + r.body());
                            }
                            inFlight.release();
                        });
            }
            inFlight.acquire(16);
            assertTrue(unexpected.isEmpty(), "unexpected outcomes: " + unexpected);
            assertEquals(n, ok.get() + aborted.get());
            await().atMost(Duration.ofSeconds(10)).until(() -> flags.total.get() == n);

            assertEquals(aborted.get(), flags.aborted.get(), "every 503 is a fault abort, flagged FI");
            assertBinomial("aborted", aborted.get(), n, 0.05);
            assertBinomial("delayed", flags.delayed.get(), n, 0.10);
            assertEquals(n - aborted.get(), up.requestsReceived(), "the upstream saw exactly the requests not aborted");
        }
    }

    @Test
    void grpcAbortIsHttp200WithGrpcStatusAndNothingGoesUpstream() throws Exception {
        FaultPolicy fault = new FaultPolicy(null, FaultPolicy.Abort.grpc(14, 100));
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(ResilienceConfigs.config(up, UpstreamProtocol.HTTP2, null,
                             ResilienceConfigs.route("/", fault, null)))
                     .requestLogListener(logs).build().start()) {
            int port = proxy.listenerPort("in");

            // A real gRPC client over HTTP/2: a trailers-only answer. Had the proxy answered HTTP 503, grpc-java
            // would also report UNAVAILABLE, but with "HTTP status code 503" as the description.
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            try {
                StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(channel, UNARY,
                                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1, 2, 3}));
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
                assertEquals("fault filter abort", e.getStatus().getDescription());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            RequestLog log = logs.awaitPath("/meshproxy.test.Echo/");
            assertEquals(200, log.responseCode());
            assertEquals("FI", log.responseFlags());

            // The head as a plain HTTP client sees it.
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            java.net.http.HttpResponse<String> r = client.send(java.net.http.HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/meshproxy.test.Echo/Unary"))
                    .header("content-type", "application/grpc").header("te", "trailers")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[] {0, 0, 0, 0, 1, 7}))
                    .timeout(Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("application/grpc", r.headers().firstValue("content-type").orElse(null));
            assertEquals("14", r.headers().firstValue("grpc-status").orElse(null));
            assertEquals("fault filter abort", r.headers().firstValue("grpc-message").orElse(null));
            assertEquals("", r.body());

            assertEquals(0, up.requestsReceived(), "nothing went upstream");
        }
    }

    @Test
    void http1ClientGoneDuringTheDelayNeverReachesTheUpstream() throws Exception {
        disconnectDuringDelay(false);
    }

    @Test
    void http2ClientGoneDuringTheDelayNeverReachesTheUpstream() throws Exception {
        disconnectDuringDelay(true);
    }

    /**
     * One event loop, a 300 ms delay on every request. The first request's client goes away during its delay;
     * a second request, made after that, is delayed as long and so fires after the first one's timer would
     * have: when the second has been answered, the first would have reached the upstream by then had its
     * timer not been cancelled. The request body held during the delay (HTTP/1.1) is released (leak detection).
     */
    private void disconnectDuringDelay(boolean http2) throws Exception {
        FaultPolicy fault = new FaultPolicy(new FaultPolicy.Delay(Duration.ofMillis(300), 100), null);
        RequestLogs logs = new RequestLogs();
        CountDownLatch arrived = new CountDownLatch(1);
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(ResilienceConfigs.config(up, UpstreamProtocol.HTTP1, null,
                             ResilienceConfigs.route("/", fault, null)))
                     // runs just before the router, on the loop, in the same task that starts the delay
                     .filter((ctx, req, next) -> {
                         if (req.path().startsWith("/gone")) {
                             arrived.countDown();
                         }
                         return next.serve(ctx, req);
                     })
                     .requestLogListener(logs).eventLoopThreads(1).build().start()) {
            int port = proxy.listenerPort("in");
            if (http2) {
                H2cClient h2 = new H2cClient(port);
                CompletableFuture<H2cClient.Response> pending = h2.get("svc", "/gone");
                assertTrue(arrived.await(10, TimeUnit.SECONDS));
                h2.close();
                await().atMost(Duration.ofSeconds(10)).until(pending::isDone);
                assertTrue(pending.isCompletedExceptionally(), "no answer came: " + pending);
            } else {
                try (RawHttp raw = new RawHttp(port)) {
                    // The whole request in one small write, so the listener reads all of it while the request
                    // waits: a body still arriving would be paused by backpressure, and a paused NIO channel
                    // notices its peer's close only when it reads or writes again (epoll notices at once).
                    raw.send("POST /gone HTTP/1.1\r\nHost: svc\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(1000));
                    assertTrue(arrived.await(10, TimeUnit.SECONDS));
                    raw.socket().setSoLinger(true, 0); // abortive close, as a crashed client
                }
            }
            RequestLog gone = logs.awaitPath("/gone");
            assertTrue(gone.responseFlags().contains("DI") && gone.responseFlags().contains("DC"),
                    "flags: " + gone.responseFlags());

            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            java.net.http.HttpResponse<String> after = client.send(java.net.http.HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/after")).timeout(Duration.ofSeconds(10)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, after.statusCode());
            assertEquals("DI", logs.awaitPath("/after").responseFlags());
            assertEquals(1, up.requestsReceived(), "only the second request reached the upstream");
        }
    }

    @Test
    void inProcessClientGoesThroughTheSameFaults() throws Exception {
        FaultPolicy abort = new FaultPolicy(null, FaultPolicy.Abort.http(418, 100));
        FaultPolicy delay = new FaultPolicy(new FaultPolicy.Delay(Duration.ofMillis(20), 100), null);
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(ResilienceConfigs.config(up, UpstreamProtocol.HTTP1, null,
                             ResilienceConfigs.route("/abort", abort, null),
                             ResilienceConfigs.route("/delay", delay, null)))
                     .requestLogListener(logs).build().start()) {
            HttpResponse aborted = proxy.client().send(HttpRequest.post("svc", "/abort",
                    io.meshproxy.core.http.Body.of("ignored")));
            assertEquals(418, aborted.status());
            assertEquals("fault filter abort", text(aborted));
            assertEquals("FI", logs.awaitPath("/abort").responseFlags());

            HttpResponse delayed = proxy.client().send(HttpRequest.get("svc", "/delay"));
            assertEquals(200, delayed.status());
            assertEquals("a", text(delayed));
            assertEquals("DI", logs.awaitPath("/delay").responseFlags());
            assertEquals(1, up.requestsReceived());
        }
    }

    private static String text(HttpResponse r) throws Exception {
        return new String(r.body().aggregate(1 << 16).get(10, TimeUnit.SECONDS).bytes(), StandardCharsets.UTF_8);
    }

    private static final MethodDescriptor<byte[], byte[]> UNARY = io.meshproxy.core.testing.GrpcBytes.method(
            "meshproxy.test.Echo", MethodDescriptor.MethodType.UNARY, "Unary");
}
