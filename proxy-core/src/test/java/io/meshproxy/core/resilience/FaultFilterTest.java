package io.meshproxy.core.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.FaultPolicy;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.BodySubscriber;
import io.meshproxy.core.http.BodySubscription;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.http.LocalReplyException;
import io.meshproxy.core.http.ResponseFlag;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * The fault filter's decisions and timer on a scripted or seeded random generator and a manual scheduler:
 * deterministic, no sleeping, no sockets (the listener tests cover those).
 */
class FaultFilterTest {
    private static final Duration DELAY = Duration.ofMillis(30);

    private final ManualScheduler loop = new ManualScheduler();
    private final RequestContext ctx = new RequestContext("test", "in-process", null, null, false, loop,
            System.nanoTime());
    private final TrackedBody body = new TrackedBody();
    private final HttpRequest request = new HttpRequest("POST", "http", "svc", "/x", null, body);
    private final CompletableFuture<HttpResponse> upstream = new CompletableFuture<>();
    private int forwarded;
    private final HttpService next = (c, r) -> {
        forwarded++;
        return upstream;
    };

    /** Answers nextDouble() from a script, in order; anything else is a test bug. */
    private static final class Script implements RandomGenerator {
        private final ArrayDeque<Double> values = new ArrayDeque<>();

        Script(double... vs) {
            for (double v : vs) {
                values.add(v);
            }
        }

        @Override
        public double nextDouble() {
            if (values.isEmpty()) {
                throw new AssertionError("one random draw more than expected");
            }
            return values.poll();
        }

        @Override
        public long nextLong() {
            throw new AssertionError("the filter draws doubles");
        }

        boolean used() {
            return values.isEmpty();
        }
    }

    /** A request body that records whether it was read (discarded). */
    private static final class TrackedBody implements Body {
        boolean subscribed;

        @Override
        public void subscribe(BodySubscriber s) {
            subscribed = true;
            s.onSubscribe(new BodySubscription() {
                @Override
                public void request(long n) {}

                @Override
                public void cancel() {}
            });
            s.onComplete();
        }

        @Override
        public long contentLength() {
            return -1;
        }
    }

    private static FaultPolicy delayAndAbort(double delayPercent, int httpStatus, double abortPercent) {
        return new FaultPolicy(new FaultPolicy.Delay(DELAY, delayPercent),
                FaultPolicy.Abort.http(httpStatus, abortPercent));
    }

    private static LocalReplyException failure(CompletionStage<HttpResponse> stage) {
        CompletableFuture<HttpResponse> f = stage.toCompletableFuture();
        assertTrue(f.isCompletedExceptionally(), "failed with a local reply: " + f);
        Throwable[] cause = new Throwable[1];
        f.whenComplete((r, t) -> cause[0] = t);
        return assertInstanceOf(LocalReplyException.class, cause[0]);
    }

    @Test
    void neitherDelayedNorAbortedPassesStraightThrough() {
        Script random = new Script(0.10, 0.05); // 10.0 is not < 10, 5.0 is not < 5
        FaultFilter f = new FaultFilter(delayAndAbort(10, 503, 5), random);
        CompletionStage<HttpResponse> r = f.filter(ctx, request, next);
        assertSame(upstream, r, "the next service's own future, nothing in between");
        assertEquals(1, forwarded);
        assertEquals("-", ctx.responseFlags());
        assertTrue(loop.tasks().isEmpty(), "no timer");
        assertFalse(body.subscribed, "the body is left to the upstream");
        assertTrue(random.used());
    }

    @Test
    void abortAnswersTheConfiguredStatusWithFlagFiAndNeverForwards() {
        Script random = new Script(0.0499); // 4.99 < 5
        FaultFilter f = new FaultFilter(new FaultPolicy(null, FaultPolicy.Abort.http(503, 5)), random);
        LocalReplyException e = failure(f.filter(ctx, request, next));
        assertEquals(503, e.status());
        assertEquals(ResponseFlag.FI, e.flag());
        assertEquals("fault filter abort", e.details(), "Envoy's body text");
        assertTrue(ctx.hasResponseFlag(ResponseFlag.FI));
        assertFalse(ctx.hasResponseFlag(ResponseFlag.DI));
        assertEquals(0, forwarded);
        assertTrue(body.subscribed, "the request body is discarded");
    }

    @Test
    void grpcAbortIsATrailersOnlyResponse() {
        FaultFilter f = new FaultFilter(new FaultPolicy(null, FaultPolicy.Abort.grpc(14, 100)), new Script(0.999));
        HttpResponse r = f.filter(ctx, request, next).toCompletableFuture().getNow(null);
        assertEquals(200, r.status());
        assertEquals("application/grpc", r.headers().get("content-type"));
        assertEquals("14", r.headers().get("grpc-status"));
        assertEquals("fault filter abort", r.headers().get("grpc-message"));
        assertSame(Body.empty(), r.body(), "no body: the head ends the stream");
        assertTrue(ctx.hasResponseFlag(ResponseFlag.FI));
        assertEquals(0, forwarded);
        assertTrue(body.subscribed);
    }

    @Test
    void zeroPercentNeverDrawsAndHundredPercentAlwaysHits() {
        Script random = new Script(0.9999999, 0.9999999); // only the 100% decisions draw
        FaultFilter f = new FaultFilter(new FaultPolicy(new FaultPolicy.Delay(DELAY, 100),
                FaultPolicy.Abort.http(500, 0)), random);
        CompletionStage<HttpResponse> r = f.filter(ctx, request, next);
        assertEquals(1, loop.tasks().size());
        loop.runAll();
        assertEquals(1, forwarded, "0% abort: never");
        assertFalse(r.toCompletableFuture().isDone(), "waiting for the upstream, not aborted");
        assertEquals(1, random.values.size(), "the 0% decision took no draw");
    }

    @Test
    void delayedRequestWaitsOnTheEventLoopTimerThenGoesOn() {
        FaultFilter f = new FaultFilter(delayAndAbort(10, 503, 5), new Script(0.0999, 0.5));
        CompletableFuture<HttpResponse> r = f.filter(ctx, request, next).toCompletableFuture();
        assertTrue(ctx.hasResponseFlag(ResponseFlag.DI), "flagged DI when the delay is decided");
        assertEquals(1, loop.tasks().size());
        assertEquals(DELAY.toNanos(), loop.tasks().get(0).getDelay(TimeUnit.NANOSECONDS));
        assertEquals(0, forwarded, "nothing forwarded before the timer fires");
        assertFalse(r.isDone());

        loop.runAll();
        assertEquals(1, forwarded);
        assertFalse(r.isDone(), "now waits for the upstream");
        HttpResponse answer = HttpResponse.of(204);
        upstream.complete(answer);
        assertSame(answer, r.getNow(null));
        assertFalse(ctx.hasResponseFlag(ResponseFlag.FI));

        ctx.cancel(); // a cancel after the delay is no longer the filter's business
        assertEquals(1, forwarded);
        assertFalse(body.subscribed, "the body went on with the request, the filter does not touch it");
    }

    @Test
    void abortIsDecidedAfterTheDelay() {
        Script random = new Script(0.0, 0.0);
        FaultFilter f = new FaultFilter(delayAndAbort(10, 429, 5), random);
        CompletableFuture<HttpResponse> r = f.filter(ctx, request, next).toCompletableFuture();
        assertEquals(1, random.values.size(), "only the delay was decided so far");
        assertFalse(r.isDone());
        assertFalse(body.subscribed);
        loop.runAll();
        LocalReplyException e = failure(r);
        assertEquals(429, e.status());
        assertEquals("DI,FI", ctx.responseFlags());
        assertEquals(0, forwarded);
        assertTrue(body.subscribed);
    }

    @Test
    void downstreamGoneDuringTheDelayCancelsTheTimerAndReleasesTheRequest() {
        FaultFilter f = new FaultFilter(delayAndAbort(100, 503, 0), new Script(0.3));
        CompletableFuture<HttpResponse> r = f.filter(ctx, request, next).toCompletableFuture();
        ManualScheduler.Task timer = loop.tasks().get(0);

        ctx.cancel();
        assertTrue(timer.isCancelled(), "the timer is cancelled, not left to fire");
        assertTrue(body.subscribed, "the body is discarded");
        LocalReplyException e = failure(r);
        assertEquals(ResponseFlag.DC, e.flag());

        loop.runAll();
        timer.runnable.run(); // even a timer that raced the cancel does nothing
        assertEquals(0, forwarded, "never forwarded");
    }

    @Test
    void downstreamAlreadyGoneBeforeTheDelayNeverForwards() {
        ctx.cancel();
        FaultFilter f = new FaultFilter(delayAndAbort(100, 503, 0), new Script(0.3));
        CompletableFuture<HttpResponse> r = f.filter(ctx, request, next).toCompletableFuture();
        assertTrue(loop.tasks().get(0).isCancelled());
        assertTrue(r.isCompletedExceptionally());
        loop.tasks().get(0).runnable.run();
        assertEquals(0, forwarded);
    }

    @Test
    void decisionsFollowTheSeededGeneratorExactly() {
        int n = 10_000;
        FaultFilter f = new FaultFilter(delayAndAbort(10, 503, 5), new SplittableRandom(42));
        SplittableRandom replay = new SplittableRandom(42);
        int delayed = 0;
        int aborted = 0;
        for (int i = 0; i < n; i++) {
            RequestContext c = new RequestContext("test", "in-process", null, null, false, loop, 0);
            HttpRequest req = new HttpRequest("GET", "http", "svc", "/x", null, Body.empty());
            CompletableFuture<HttpResponse> r = f.filter(c, req, (cc, rr) -> CompletableFuture.completedFuture(
                    HttpResponse.of(200))).toCompletableFuture();
            loop.runAll(); // the abort draw of a delayed request happens here, before the next request's
            boolean expectDelay = replay.nextDouble() * 100 < 10;
            boolean expectAbort = replay.nextDouble() * 100 < 5;
            assertEquals(expectDelay, c.hasResponseFlag(ResponseFlag.DI), "request " + i);
            assertEquals(expectAbort, c.hasResponseFlag(ResponseFlag.FI), "request " + i);
            assertEquals(expectAbort, r.isCompletedExceptionally(), "request " + i);
            delayed += expectDelay ? 1 : 0;
            aborted += expectAbort ? 1 : 0;
        }
        // and the seed is not a degenerate one: both shares are near their percentages
        assertTrue(delayed > 850 && delayed < 1150, "delayed " + delayed);
        assertTrue(aborted > 400 && aborted < 600, "aborted " + aborted);
    }
}
