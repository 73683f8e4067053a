package io.meshproxy.core.upstream;

import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.RetryBudget;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The cluster-wide resources Envoy's circuit-breaker thresholds count: open connections, pending requests,
 * requests in flight and retries in flight, across every event loop. Each {@code tryAcquire} either takes
 * one unit (and the caller must release it exactly once) or returns false because the threshold is reached;
 * nothing ever waits. Lock-free (a CAS loop per acquire).
 *
 * <p>{@code maxConnections} is shared by the connection pools of every event loop and every host, so a
 * connection closing on one loop may be the one a request pending on another loop is waiting for. A pool
 * refused a connection registers a wake-up with {@link #awaitConnection} (then tries again, so a release in
 * between is not lost); every {@link #releaseConnection} runs the wake-ups registered so far, each of which
 * hands the retry to its own pool's event loop. A pool also registers an idle reclaimer: while connections
 * are awaited, pools close idle connections instead of keeping them, so that a limit reached by idle
 * connections of one loop or host cannot starve requests of another.
 */
public final class ClusterResources {
    private final CircuitBreakers limits;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger retries = new AtomicInteger();
    private final ConcurrentLinkedQueue<Runnable> connectionWaiters = new ConcurrentLinkedQueue<>();
    private final Set<Runnable> idleReclaimers = ConcurrentHashMap.newKeySet();

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

    /** One connection is gone (closed, or its connect failed): wakes every pool waiting for a connection. */
    public void releaseConnection() {
        connections.decrementAndGet();
        if (!connectionWaiters.isEmpty()) {
            Runnable wake;
            while ((wake = connectionWaiters.poll()) != null) {
                wake.run();
            }
        }
    }

    /**
     * Runs {@code wake} (once, on the releasing thread: it must only hand work to its own event loop) at the
     * next {@link #releaseConnection}. The caller tries {@link #tryAcquireConnection} again after registering.
     */
    public void awaitConnection(Runnable wake) {
        connectionWaiters.add(wake);
        if (!idleReclaimers.isEmpty()) {
            for (Runnable r : idleReclaimers) {
                r.run();
            }
        }
    }

    /** Whether some pool waits for a connection to be released: an idle connection should close, not linger. */
    public boolean connectionAwaited() {
        return !connectionWaiters.isEmpty();
    }

    /**
     * Registers a pool's idle reclaimer, run (on any thread: it must only hand work to its own event loop)
     * whenever a pool starts waiting for a connection; it closes one idle connection if a connection is still
     * {@linkplain #connectionAwaited() awaited} by then.
     */
    public void addIdleReclaimer(Runnable reclaimer) {
        idleReclaimers.add(reclaimer);
    }

    public void removeIdleReclaimer(Runnable reclaimer) {
        idleReclaimers.remove(reclaimer);
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
