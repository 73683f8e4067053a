package io.meshproxy.core.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.internal.CircuitBreakerStateMachine;
import io.meshproxy.core.config.FailureRateBreaker;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * A cluster's failure-rate breaker: Resilience4j's {@link CircuitBreaker} state machine (count-based sliding
 * window, failure-rate and slow-call thresholds, wait in open state, half-open probes), fed with the
 * {@link ResponseClassifier}'s verdict on every attempt. Thread-safe (Resilience4j's own atomics).
 *
 * <p>Protocol per attempt: {@link #tryAcquire()}; if it returned true, exactly one of {@link #record} or
 * {@link #release()}.
 */
public final class ClusterBreaker {
    /** What Resilience4j records as the error of a failed attempt; the outcome, not a stack trace, matters. */
    private static final Throwable FAILURE = new Exception("upstream failure", null, false, false) {
        private static final long serialVersionUID = 1L;
    };

    private final CircuitBreaker breaker;
    private final Clock clock;
    private final long waitInOpenMillis;
    /**
     * While the breaker is open, the wall-clock millisecond its wait ends: until then a request is refused
     * here, without asking Resilience4j, which allocates an event and a timestamp for every refusal.
     */
    private volatile long refuseUntilMillis;
    private volatile CircuitBreaker.State lastState = CircuitBreaker.State.CLOSED;

    public ClusterBreaker(String clusterName, FailureRateBreaker config, Clock clock) {
        CircuitBreakerConfig c = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(config.slidingWindowSize())
                .minimumNumberOfCalls(Math.min(config.minimumNumberOfCalls(), config.slidingWindowSize()))
                .failureRateThreshold(config.failureRateThreshold())
                .slowCallRateThreshold(config.slowCallRateThreshold())
                .slowCallDurationThreshold(config.slowCallDuration())
                .waitDurationInOpenState(config.waitInOpenState())
                .permittedNumberOfCallsInHalfOpenState(config.permittedCallsInHalfOpenState())
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .writableStackTraceEnabled(false)
                .build();
        this.breaker = new CircuitBreakerStateMachine(clusterName, c, clock);
        this.clock = clock;
        this.waitInOpenMillis = config.waitInOpenState().toMillis();
    }

    /** Whether an attempt may go upstream now: false while open, or half-open with no probe left. */
    public boolean tryAcquire() {
        long until = refuseUntilMillis;
        if (until != 0) {
            if (clock.millis() < until) {
                return false;
            }
            refuseUntilMillis = 0;
            lastState = null; // the wait is over: whatever record() sees next (a failed probe: OPEN) is news
        }
        return breaker.tryAcquirePermission();
    }

    /** Records an attempt that went upstream, as its outcome and duration (to its response head or failure). */
    public void record(Outcome outcome, long durationNanos) {
        if (outcome.isFailure()) {
            breaker.onError(durationNanos, TimeUnit.NANOSECONDS, FAILURE);
        } else {
            breaker.onSuccess(durationNanos, TimeUnit.NANOSECONDS);
        }
        CircuitBreaker.State now = breaker.getState();
        if (now != lastState) {
            lastState = now;
            if (now == CircuitBreaker.State.OPEN) {
                refuseUntilMillis = clock.millis() + waitInOpenMillis; // it just opened: its wait starts now
            }
        }
    }

    /** Gives back a permission whose attempt never reached the upstream (cancelled, overflowed). */
    public void release() {
        breaker.releasePermission();
    }

    /** CLOSED, OPEN, HALF_OPEN (Resilience4j's names; FORCED_OPEN and DISABLED are never used here). */
    public String state() {
        return breaker.getState().name();
    }

    /** The failure rate over the window in percent, or -1 before the minimum number of calls. */
    public float failureRate() {
        return breaker.getMetrics().getFailureRate();
    }
}
