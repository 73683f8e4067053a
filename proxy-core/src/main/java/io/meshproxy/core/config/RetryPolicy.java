package io.meshproxy.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * When and how a route retries (Istio's {@code http[].retries}, Envoy's {@code retry_policy}). A retry goes
 * to an endpoint not yet tried when there is one, after an exponential backoff with full jitter (the n-th
 * retry waits a random time in {@code [0, min(maxInterval, baseInterval * 2^(n-1)))}), and only within the
 * cluster's {@link CircuitBreakers#maxRetries()} and {@link RetryBudget}. The request body is replayed from
 * a buffer of at most {@code bufferLimitBytes}; a larger body is sent once and not retried.
 *
 * <p>Validated on construction: {@code numRetries} at least 0; {@code retryOn} not empty when retries are
 * on; status codes in 100..599; durations not negative, {@code baseInterval} more than 0 and not above
 * {@code maxInterval}.
 *
 * @param numRetries retries after the first attempt (Istio {@code attempts}); 0 disables
 * @param retryOn the conditions that make an attempt retriable
 * @param retriableStatusCodes statuses retried under {@link RetryOn#RETRIABLE_STATUS_CODES}
 * @param perTryTimeout the timeout of each attempt; zero for none (the route timeout still applies)
 * @param baseInterval backoff base (default 25 ms, as Envoy)
 * @param maxInterval backoff cap (default 10 x base = 250 ms, as Envoy)
 * @param bufferLimitBytes the largest request body kept for replay (default 1 MiB, Envoy's buffer limit)
 */
public record RetryPolicy(int numRetries, Set<RetryOn> retryOn, Set<Integer> retriableStatusCodes,
        Duration perTryTimeout, Duration baseInterval, Duration maxInterval, int bufferLimitBytes) {

    public static final Duration DEFAULT_BASE_INTERVAL = Duration.ofMillis(25);
    public static final int DEFAULT_BUFFER_LIMIT_BYTES = 1 << 20;

    /**
     * Istio's retry policy for a route whose VirtualService sets none: 2 retries on
     * {@code connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes} with 503.
     */
    public static final RetryPolicy ISTIO_DEFAULT = builder().numRetries(2)
            .retryOn(EnumSet.of(RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM, RetryOn.GRPC_UNAVAILABLE,
                    RetryOn.GRPC_CANCELLED, RetryOn.RETRIABLE_STATUS_CODES))
            .retriableStatusCodes(Set.of(503)).build();

    public RetryPolicy {
        Checks.atLeast("numRetries", numRetries, 0);
        retryOn = retryOn == null || retryOn.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(retryOn));
        if (numRetries > 0 && retryOn.isEmpty()) {
            throw Checks.fail("retryOn", "must name at least one condition when numRetries is more than 0");
        }
        retriableStatusCodes = retriableStatusCodes == null ? Set.of() : Set.copyOf(new TreeSet<>(retriableStatusCodes));
        for (int code : retriableStatusCodes) {
            Checks.inRange("retriableStatusCodes", code, 100, 599);
        }
        perTryTimeout = Checks.duration("perTryTimeout", perTryTimeout, Duration.ZERO);
        baseInterval = Checks.duration("baseInterval", baseInterval, DEFAULT_BASE_INTERVAL);
        if (baseInterval.isZero()) {
            throw Checks.fail("baseInterval", "must be more than 0");
        }
        maxInterval = Checks.duration("maxInterval", maxInterval, baseInterval.multipliedBy(10));
        if (maxInterval.compareTo(baseInterval) < 0) {
            throw Checks.fail("maxInterval", "must not be less than baseInterval ("
                    + ConfigJson.formatDuration(baseInterval) + "), was " + ConfigJson.formatDuration(maxInterval));
        }
        Checks.atLeast("bufferLimitBytes", bufferLimitBytes, 0);
    }

    /** Whether {@code condition} is among {@link #retryOn()}. */
    public boolean on(RetryOn condition) {
        return retryOn.contains(condition);
    }

    /** The conditions as Envoy writes them: {@code 5xx,reset,connect-failure}. */
    public String retryOnTokens() {
        List<String> tokens = new ArrayList<>();
        for (RetryOn r : EnumSet.copyOf(retryOn.isEmpty() ? EnumSet.noneOf(RetryOn.class) : retryOn)) {
            tokens.add(r.token());
        }
        return String.join(",", tokens);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link RetryPolicy}; defaults: no retries, Envoy's backoff, a 1 MiB replay buffer. */
    public static final class Builder {
        private int numRetries;
        private Set<RetryOn> retryOn = EnumSet.noneOf(RetryOn.class);
        private Set<Integer> retriableStatusCodes = Set.of();
        private Duration perTryTimeout = Duration.ZERO;
        private Duration baseInterval = DEFAULT_BASE_INTERVAL;
        private Duration maxInterval;
        private int bufferLimitBytes = DEFAULT_BUFFER_LIMIT_BYTES;

        private Builder() {}

        public Builder numRetries(int v) {
            numRetries = v;
            return this;
        }

        public Builder retryOn(Set<RetryOn> v) {
            retryOn = v;
            return this;
        }

        public Builder retryOn(RetryOn first, RetryOn... rest) {
            retryOn = EnumSet.of(first, rest);
            return this;
        }

        public Builder retriableStatusCodes(Set<Integer> v) {
            retriableStatusCodes = v;
            return this;
        }

        public Builder perTryTimeout(Duration v) {
            perTryTimeout = v;
            return this;
        }

        public Builder baseInterval(Duration v) {
            baseInterval = v;
            return this;
        }

        public Builder maxInterval(Duration v) {
            maxInterval = v;
            return this;
        }

        public Builder bufferLimitBytes(int v) {
            bufferLimitBytes = v;
            return this;
        }

        public RetryPolicy build() {
            return new RetryPolicy(numRetries, retryOn, retriableStatusCodes, perTryTimeout, baseInterval,
                    maxInterval, bufferLimitBytes);
        }
    }
}
