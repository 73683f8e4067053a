package io.meshproxy.core.upstream;

import io.meshproxy.core.config.EndpointConfig;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The runtime state of one upstream endpoint, shared by every event loop: its address, weight and labels,
 * and live counters (active requests, open connections) that load balancers and the admin API read.
 * Counters are atomics: written by many loops, never locked.
 */
public final class Host {
    private final EndpointConfig config;
    private final String hostPort;
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger openConnections = new AtomicInteger();
    private volatile boolean healthy = true;

    public Host(EndpointConfig config) {
        this.config = config;
        this.hostPort = config.address() + ":" + config.port();
    }

    public EndpointConfig config() {
        return config;
    }

    public String address() {
        return config.address();
    }

    public int port() {
        return config.port();
    }

    /** Relative load-balancing weight, at least 1. */
    public int weight() {
        return config.weight();
    }

    public Map<String, String> labels() {
        return config.labels();
    }

    /** {@code address:port}, as Envoy's {@code %UPSTREAM_HOST%}. */
    public String hostPort() {
        return hostPort;
    }

    /** Requests currently in flight to this host, from all event loops. */
    public int activeRequests() {
        return activeRequests.get();
    }

    public void requestStarted() {
        activeRequests.incrementAndGet();
    }

    public void requestFinished() {
        activeRequests.decrementAndGet();
    }

    public int openConnections() {
        return openConnections.get();
    }

    public void connectionOpened() {
        openConnections.incrementAndGet();
    }

    public void connectionClosed() {
        openConnections.decrementAndGet();
    }

    /** Whether the host may receive traffic (health checks and outlier detection will set this). */
    public boolean healthy() {
        return healthy;
    }

    public void healthy(boolean healthy) {
        this.healthy = healthy;
    }

    @Override
    public String toString() {
        return hostPort;
    }
}
