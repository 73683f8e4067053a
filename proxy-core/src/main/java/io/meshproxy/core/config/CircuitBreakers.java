package io.meshproxy.core.config;

/**
 * Envoy's circuit-breaker thresholds of a cluster, counted across all event loops. Reaching one fails the
 * request (or the retry) at once, without touching the upstream: 503 with flag UO, counted as
 * {@code upstream_rq_pending_overflow} / {@code upstream_cx_overflow} / {@code upstream_rq_retry_overflow}.
 *
 * <p>Validated on construction: every maximum at least 1 ({@code maxRetries} at least 0); a null budget
 * means no budget, only {@code maxRetries}.
 *
 * @param maxConnections connections open to all hosts together; beyond it requests wait as pending (Istio
 *     {@code tcp.maxConnections})
 * @param maxPendingRequests requests waiting for a connection; beyond it 503 UO (Istio
 *     {@code http.http1MaxPendingRequests})
 * @param maxRequests requests in flight to all hosts; beyond it 503 UO (Istio {@code http.http2MaxRequests})
 * @param maxRetries retries in flight; beyond it the retry is skipped and the last answer stands (Istio
 *     {@code http.maxRetries})
 * @param retryBudget a share of in-flight requests that retries may be; applies together with
 *     {@code maxRetries}; null for none
 */
public record CircuitBreakers(int maxConnections, int maxPendingRequests, int maxRequests, int maxRetries,
        RetryBudget retryBudget) {

    /** Envoy's default thresholds (1024 connections, pending and requests, 3 retries) and a 20% / 3 budget. */
    public static final CircuitBreakers DEFAULT = new CircuitBreakers(1024, 1024, 1024, 3, RetryBudget.DEFAULT);

    /** No limits at all (Istio's defaults of 2^32-1), with the default retry budget. */
    public static final CircuitBreakers UNLIMITED = new CircuitBreakers(Integer.MAX_VALUE, Integer.MAX_VALUE,
            Integer.MAX_VALUE, Integer.MAX_VALUE, RetryBudget.DEFAULT);

    public CircuitBreakers {
        Checks.atLeast("maxConnections", maxConnections, 1);
        Checks.atLeast("maxPendingRequests", maxPendingRequests, 1);
        Checks.atLeast("maxRequests", maxRequests, 1);
        Checks.atLeast("maxRetries", maxRetries, 0);
    }

    public CircuitBreakers withMaxConnections(int v) {
        return new CircuitBreakers(v, maxPendingRequests, maxRequests, maxRetries, retryBudget);
    }

    public CircuitBreakers withMaxPendingRequests(int v) {
        return new CircuitBreakers(maxConnections, v, maxRequests, maxRetries, retryBudget);
    }

    public CircuitBreakers withMaxRequests(int v) {
        return new CircuitBreakers(maxConnections, maxPendingRequests, v, maxRetries, retryBudget);
    }

    public CircuitBreakers withMaxRetries(int v) {
        return new CircuitBreakers(maxConnections, maxPendingRequests, maxRequests, v, retryBudget);
    }

    public CircuitBreakers withRetryBudget(RetryBudget v) {
        return new CircuitBreakers(maxConnections, maxPendingRequests, maxRequests, maxRetries, v);
    }
}
