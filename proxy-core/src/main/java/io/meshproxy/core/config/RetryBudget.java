package io.meshproxy.core.config;

/**
 * Envoy's {@code retry_budget}: retries in flight to a cluster may be at most {@code budgetPercent} of the
 * requests in flight (active plus pending), but never fewer than {@code minRetryConcurrency}, so a failing
 * upstream sees at most a fixed share of extra load instead of a retry storm (Linkerd and Finagle budget the
 * same way).
 *
 * <p>Validated on construction: {@code budgetPercent} in 0..100; {@code minRetryConcurrency} at least 0.
 *
 * @param budgetPercent the share of in-flight requests that may be retries (default 20, as Envoy)
 * @param minRetryConcurrency retries allowed whatever the share (default 3, as Envoy)
 */
public record RetryBudget(double budgetPercent, int minRetryConcurrency) {
    public static final RetryBudget DEFAULT = new RetryBudget(20.0, 3);

    public RetryBudget {
        if (!(budgetPercent >= 0 && budgetPercent <= 100)) {
            throw Checks.fail("budgetPercent", "must be in 0..100, was " + budgetPercent);
        }
        Checks.atLeast("minRetryConcurrency", minRetryConcurrency, 0);
    }
}
