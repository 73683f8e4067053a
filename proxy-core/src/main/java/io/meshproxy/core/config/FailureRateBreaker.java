package io.meshproxy.core.config;

import java.time.Duration;

/**
 * A failure-rate circuit breaker per cluster, on Resilience4j's {@code CircuitBreaker} (a meshproxy
 * extension; Envoy's own "circuit breakers" are the {@link CircuitBreakers} thresholds). Over a sliding
 * window of the last calls, when the failure rate or the slow-call rate reaches its threshold the breaker
 * opens: requests fail at once with 503 and flag {@code UCB} for {@code waitInOpenState}; then
 * {@code permittedCallsInHalfOpenState} probes decide whether it closes again or stays open. A failure is what
 * the response classifier says it is.
 *
 * <p>Validated on construction: thresholds in (0, 100]; window and counts at least 1; durations positive.
 *
 * @param failureRateThreshold percentage of failed calls that opens the breaker (default 50)
 * @param slowCallRateThreshold percentage of slow calls that opens the breaker (default 100: never alone)
 * @param slowCallDuration a call slower than this is slow (default 60 s)
 * @param slidingWindowSize calls in the window (default 100)
 * @param minimumNumberOfCalls calls recorded before a rate is computed (default 100, capped at the window)
 * @param waitInOpenState time open before probing (default 60 s)
 * @param permittedCallsInHalfOpenState probe calls in half-open state (default 10)
 */
public record FailureRateBreaker(float failureRateThreshold, float slowCallRateThreshold, Duration slowCallDuration,
        int slidingWindowSize, int minimumNumberOfCalls, Duration waitInOpenState, int permittedCallsInHalfOpenState) {

    public FailureRateBreaker {
        percent("failureRateThreshold", failureRateThreshold);
        percent("slowCallRateThreshold", slowCallRateThreshold);
        slowCallDuration = positive("slowCallDuration", slowCallDuration, Duration.ofSeconds(60));
        Checks.atLeast("slidingWindowSize", slidingWindowSize, 1);
        Checks.atLeast("minimumNumberOfCalls", minimumNumberOfCalls, 1);
        waitInOpenState = positive("waitInOpenState", waitInOpenState, Duration.ofSeconds(60));
        Checks.atLeast("permittedCallsInHalfOpenState", permittedCallsInHalfOpenState, 1);
    }

    private static void percent(String field, float v) {
        if (!(v > 0 && v <= 100)) {
            throw Checks.fail(field, "must be more than 0 and at most 100, was " + v);
        }
    }

    private static Duration positive(String field, Duration value, Duration defaultValue) {
        Duration d = Checks.duration(field, value, defaultValue);
        if (d.isZero()) {
            throw Checks.fail(field, "must be more than 0");
        }
        return d;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link FailureRateBreaker} from Resilience4j's defaults. */
    public static final class Builder {
        private float failureRateThreshold = 50;
        private float slowCallRateThreshold = 100;
        private Duration slowCallDuration = Duration.ofSeconds(60);
        private int slidingWindowSize = 100;
        private int minimumNumberOfCalls = 100;
        private Duration waitInOpenState = Duration.ofSeconds(60);
        private int permittedCallsInHalfOpenState = 10;

        private Builder() {}

        public Builder failureRateThreshold(float v) {
            failureRateThreshold = v;
            return this;
        }

        public Builder slowCallRateThreshold(float v) {
            slowCallRateThreshold = v;
            return this;
        }

        public Builder slowCallDuration(Duration v) {
            slowCallDuration = v;
            return this;
        }

        public Builder slidingWindowSize(int v) {
            slidingWindowSize = v;
            return this;
        }

        public Builder minimumNumberOfCalls(int v) {
            minimumNumberOfCalls = v;
            return this;
        }

        public Builder waitInOpenState(Duration v) {
            waitInOpenState = v;
            return this;
        }

        public Builder permittedCallsInHalfOpenState(int v) {
            permittedCallsInHalfOpenState = v;
            return this;
        }

        public FailureRateBreaker build() {
            return new FailureRateBreaker(failureRateThreshold, slowCallRateThreshold, slowCallDuration,
                    slidingWindowSize, minimumNumberOfCalls, waitInOpenState, permittedCallsInHalfOpenState);
        }
    }
}
