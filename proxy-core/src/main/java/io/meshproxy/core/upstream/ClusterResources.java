package io.meshproxy.core.upstream;

import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.RetryBudget;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The cluster-wide resources Envoy's circuit-breaker thresholds count: open connections, pending requests,
 * requests in flight and retries in flight, across every event loop. Each {@code tryAcquire} either takes
 * one unit (and the caller must release it exactly once) or returns false because the threshold is reached;
 * nothing ever waits. Lock-free (a CAS loop per acquire).
 */
public final class ClusterResources {
    private final CircuitBreakers limits;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger retries = new AtomicInteger();

    public ClusterResources(CircuitBreakers limits) {
        this.limits = limits;
    }

    public CircuitBreakers limits() {
        return limits;
    }

    private static boolean tryAcquire(AtomicInteger counter, int max) {
        for (;;) {
            int n = counter.get();
            if (n >= max) {
                return false;
            }
            if (counter.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public boolean tryAcquireConnection() {
        return tryAcquire(connections, limits.maxConnections());
    }

    public void releaseConnection() {
        connections.decrementAndGet();
    }

    public boolean tryAcquirePending() {
        return tryAcquire(pending, limits.maxPendingRequests());
    }

    public void releasePending() {
        pending.decrementAndGet();
    }

    public boolean tryAcquireRequest() {
        return tryAcquire(requests, limits.maxRequests());
    }

    public void releaseRequest() {
        requests.decrementAndGet();
    }

    /**
     * One more retry in flight, if both {@link CircuitBreakers#maxRetries()} and the retry budget allow it:
     * the budget allows {@code max(minRetryConcurrency, budgetPercent% of (requests + pending))} retries.
     */
    public boolean tryAcquireRetry() {
        int max = limits.maxRetries();
        RetryBudget budget = limits.retryBudget();
        if (budget != null) {
            int active = requests.get() + pending.get();
            int allowed = Math.max(budget.minRetryConcurrency(), (int) (active * budget.budgetPercent() / 100.0));
            max = Math.min(max, allowed);
        }
        return tryAcquire(retries, max);
    }

    public void releaseRetry() {
        retries.decrementAndGet();
    }

    public int connections() {
        return connections.get();
    }

    public int pendingRequests() {
        return pending.get();
    }

    public int activeRequests() {
        return requests.get();
    }

    public int activeRetries() {
        return retries.get();
    }
}
