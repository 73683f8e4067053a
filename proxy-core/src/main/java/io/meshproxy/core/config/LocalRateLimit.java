package io.meshproxy.core.config;

import java.time.Duration;

/**
 * A local token bucket (Envoy's {@code local_ratelimit} semantics, a meshproxy extension): the bucket holds at
 * most {@code maxTokens}, starts full, and gains {@code tokensPerFill} every {@code fillInterval}. A request
 * takes one token; with none left it is answered 429 with flag RL and never reaches the upstream. One bucket
 * per listener or per route, shared by all event loops.
 *
 * @param maxTokens bucket size, at least 1
 * @param tokensPerFill tokens added per interval, at least 1 (default: {@code maxTokens})
 * @param fillInterval at least 1 ms
 */
public record LocalRateLimit(long maxTokens, long tokensPerFill, Duration fillInterval) {
    public LocalRateLimit {
        Checks.atLeast("maxTokens", maxTokens, 1);
        Checks.atLeast("tokensPerFill", tokensPerFill, 1);
        Checks.required("fillInterval", fillInterval);
        if (fillInterval.compareTo(Duration.ofMillis(1)) < 0) {
            throw Checks.fail("fillInterval", "must be at least 1ms, was " + ConfigJson.formatDuration(fillInterval));
        }
    }

    /** {@code tokens} per {@code interval}, bursts up to the same number. */
    public static LocalRateLimit of(long tokens, Duration interval) {
        return new LocalRateLimit(tokens, tokens, interval);
    }
}
