package io.meshproxy.benchmarks;

import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.FailureRateBreaker;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.resilience.ClusterBreaker;
import io.meshproxy.core.resilience.Outcome;
import io.meshproxy.core.resilience.ResponseClassifier;
import io.meshproxy.core.upstream.ClusterResources;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The per-request resilience checks of the upstream call, each on one thread and on one thread per core
 * ({@code ...Contended}, {@link Threads#MAX}) against the same cluster-wide object, as the event loops of a
 * proxy share one cluster:
 * <ul>
 *   <li>{@link #breakerClosed}: {@link ClusterBreaker#tryAcquire()} and {@link ClusterBreaker#record} of a
 *       success on a closed failure-rate breaker (Resilience4j, count-based window of 100) — what every
 *       attempt to a cluster with a breaker pays;</li>
 *   <li>{@link #breakerOpen}: {@link ClusterBreaker#tryAcquire()} refused by an open breaker (opened in setup
 *       by ten failures, one hour in open state) — the check of the UCB fast-fail;</li>
 *   <li>{@link #requestSlot}: {@link ClusterResources#tryAcquireRequest()} and
 *       {@link ClusterResources#releaseRequest()} — Envoy's {@code max_requests} threshold, every request;</li>
 *   <li>{@link #retryBudget}: {@link ClusterResources#tryAcquireRetry()} and
 *       {@link ClusterResources#releaseRetry()} with the default retry budget (20%, at least 3) while 50
 *       requests are in flight, so the budget (10) is computed from live counts — every retry;</li>
 *   <li>{@link #classify}: {@link ResponseClassifier#classify} and {@link ResponseClassifier#retriable} of
 *       a rotating mix of answers (200, 404, 409, 500, 503, 504, gRPC UNAVAILABLE) against a retry policy of
 *       {@code 5xx,gateway-error,reset,connect-failure,retriable-status-codes} — every attempt; stateless, so
 *       one thread only.</li>
 * </ul>
 * Average time, ns per operation (an operation is the pair: acquire and record or release). The difference
 * between a check and its contended variant is the cost of the shared cache lines (and, for the closed
 * breaker, of Resilience4j's {@code synchronized} window update) when every core hits them at once — the
 * worst case; a proxy's loops interleave them with whole requests.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ResilienceCheckBenchmark {
    /** A 100 µs attempt: well under the slow-call duration, so a success is just a success. */
    private static final long DURATION_NANOS = 100_000;
    private static final int HELD_REQUESTS = 50;

    private ClusterBreaker closed;
    private ClusterBreaker open;
    private ClusterResources resources;

    @Setup(Level.Trial)
    public void setUp() {
        closed = new ClusterBreaker("closed", FailureRateBreaker.builder().build(), Clock.systemUTC());
        open = new ClusterBreaker("open", FailureRateBreaker.builder()
                .slidingWindowSize(10)
                .minimumNumberOfCalls(10)
                .failureRateThreshold(50)
                .waitInOpenState(Duration.ofHours(1))
                .build(), Clock.systemUTC());
        for (int i = 0; i < 10; i++) {
            check(open.tryAcquire(), "the breaker refused a call before opening");
            open.record(Outcome.ERROR_5XX, DURATION_NANOS);
        }
        check("OPEN".equals(open.state()), "expected OPEN after 10 failures, was " + open.state());
        check(!open.tryAcquire(), "the open breaker let a call through");
        check(closed.tryAcquire(), "the closed breaker refused a call");
        closed.record(Outcome.SUCCESS, DURATION_NANOS);

        resources = new ClusterResources(CircuitBreakers.DEFAULT);
        for (int i = 0; i < HELD_REQUESTS; i++) {
            check(resources.tryAcquireRequest(), "request slot " + i + " refused");
        }
        check(resources.tryAcquireRetry(), "retry refused with 50 requests in flight");
        resources.releaseRetry();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        // A lost release would show here as a count that drifted during the trial.
        check(resources.activeRequests() == HELD_REQUESTS, "requests in flight drifted to "
                + resources.activeRequests());
        check(resources.activeRetries() == 0, "retries in flight drifted to " + resources.activeRetries());
        check("CLOSED".equals(closed.state()) && "OPEN".equals(open.state()),
                "breaker states changed: " + closed.state() + ", " + open.state());
    }

    /** The answers {@link #classify} rotates through, per benchmark thread. */
    @State(Scope.Thread)
    public static class Answers {
        private static final int[] STATUS = {200, 503, 404, 500, 200, 409, 504, 200};
        private static final int[] GRPC = {-1, -1, -1, -1, 14, -1, -1, 0};
        private static final RetryPolicy POLICY = RetryPolicy.builder()
                .numRetries(2)
                .retryOn(RetryOn.FIVE_XX, RetryOn.GATEWAY_ERROR, RetryOn.RESET, RetryOn.CONNECT_FAILURE,
                        RetryOn.RETRIABLE_STATUS_CODES)
                .retriableStatusCodes(Set.of(503))
                .build();
        private int next;
    }

    // ---- closed breaker: tryAcquire + record(SUCCESS) ----

    @Benchmark
    @Threads(1)
    public boolean breakerClosed() {
        return acquireAndRecord(closed);
    }

    @Benchmark
    @Threads(Threads.MAX)
    public boolean breakerClosedContended() {
        return acquireAndRecord(closed);
    }

    private static boolean acquireAndRecord(ClusterBreaker breaker) {
        boolean permitted = breaker.tryAcquire();
        if (permitted) {
            breaker.record(Outcome.SUCCESS, DURATION_NANOS);
        }
        return permitted;
    }

    // ---- open breaker: tryAcquire refused ----

    @Benchmark
    @Threads(1)
    public boolean breakerOpen() {
        return open.tryAcquire();
    }

    @Benchmark
    @Threads(Threads.MAX)
    public boolean breakerOpenContended() {
        return open.tryAcquire();
    }

    // ---- max_requests threshold ----

    @Benchmark
    @Threads(1)
    public boolean requestSlot() {
        return acquireAndReleaseRequest(resources);
    }

    @Benchmark
    @Threads(Threads.MAX)
    public boolean requestSlotContended() {
        return acquireAndReleaseRequest(resources);
    }

    private static boolean acquireAndReleaseRequest(ClusterResources r) {
        boolean acquired = r.tryAcquireRequest();
        if (acquired) {
            r.releaseRequest();
        }
        return acquired;
    }

    // ---- max_retries and the retry budget ----

    @Benchmark
    @Threads(1)
    public boolean retryBudget() {
        return acquireAndReleaseRetry(resources);
    }

    @Benchmark
    @Threads(Threads.MAX)
    public boolean retryBudgetContended() {
        return acquireAndReleaseRetry(resources);
    }

    private static boolean acquireAndReleaseRetry(ClusterResources r) {
        boolean acquired = r.tryAcquireRetry();
        if (acquired) {
            r.releaseRetry();
        }
        return acquired;
    }

    // ---- the classifier ----

    @Benchmark
    @Threads(1)
    public boolean classify(Answers a, Blackhole bh) {
        int i = a.next;
        a.next = (i + 1) & (Answers.STATUS.length - 1);
        int status = Answers.STATUS[i];
        int grpc = Answers.GRPC[i];
        Outcome outcome = ResponseClassifier.classify(status, grpc);
        bh.consume(outcome);
        return ResponseClassifier.retriable(Answers.POLICY, outcome, status, grpc);
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException(message);
        }
    }
}
