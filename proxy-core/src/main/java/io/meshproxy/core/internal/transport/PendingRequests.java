package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.core.upstream.ClusterResources;
import io.meshproxy.core.upstream.ClusterStats;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * One pool's requests waiting for a connection or stream (Envoy's pending requests), oldest first. Each holds
 * one pending unit of the cluster's {@code maxPendingRequests} while it is here; the unit goes back exactly once,
 * when the request leaves the queue for any reason — served, failed, or ended while waiting (downstream gone,
 * timeout), the last at once rather than when it would have reached the head. Lives on the pool's event loop.
 */
final class PendingRequests {
    private final EventLoop loop;
    private final ClusterResources resources;
    private final ClusterStats stats;
    private final ArrayDeque<UpstreamExchange> waiters = new ArrayDeque<>();

    PendingRequests(EventLoop loop, ClusterResources resources, ClusterStats stats) {
        this.loop = loop;
        this.resources = resources;
        this.stats = stats;
    }

    /**
     * Queues {@code exchange}, or fails it at once with 503 UO (counted as {@code upstream_rq_pending_overflow})
     * when the cluster's pending threshold is reached. Returns whether it was queued.
     */
    boolean offer(UpstreamExchange exchange) {
        if (!resources.tryAcquirePending()) {
            stats.upstreamRqPendingOverflow.increment();
            exchange.onAcquireFailed(null, ResponseFlag.UO);
            return false;
        }
        waiters.add(exchange);
        exchange.response().whenComplete((r, failure) -> {
            if (failure != null) {
                drop(exchange);
            }
        });
        return true;
    }

    private void drop(UpstreamExchange exchange) {
        if (!loop.inEventLoop()) {
            try {
                loop.execute(() -> drop(exchange));
            } catch (RejectedExecutionException e) {
                // the event loop is shutting down: its pools are gone with it
            }
            return;
        }
        if (waiters.remove(exchange)) {
            resources.releasePending();
        }
    }

    /** The oldest request still waiting, its pending unit released; null if none. */
    UpstreamExchange poll() {
        UpstreamExchange ex;
        while ((ex = waiters.poll()) != null) {
            resources.releasePending();
            if (!ex.isFinished()) {
                return ex;
            }
        }
        return null;
    }

    int size() {
        return waiters.size();
    }

    boolean isEmpty() {
        return waiters.isEmpty();
    }
}
