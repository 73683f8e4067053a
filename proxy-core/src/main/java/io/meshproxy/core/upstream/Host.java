package io.meshproxy.core.upstream;

import io.meshproxy.core.config.EndpointConfig;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The runtime state of one upstream endpoint, shared by every event loop: its address, weight and labels,
 * and live counters (active requests, open connections) that load balancers and the admin API read.
 * Counters are atomics: written by many loops, never locked.
 *
 * <p>Health is a set of Envoy's health flags; a host takes traffic ({@link #healthy()}) only when none is
 * set: {@code /failed_active_hc} (active health checking failed it), {@code /failed_outlier_check} (outlier
 * detection ejected it) and {@code /failed_eds_health} (whoever supplies the endpoints marked it unhealthy,
 * through {@link #healthy(boolean)}). A load balancer in panic mode ignores health altogether.
 */
public final class Host {
    private final EndpointConfig config;
    private final String hostPort;
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger openConnections = new AtomicInteger();
    /** Health flags, bitwise; 0 means healthy. Written with a CAS, read with one volatile read. */
    private volatile int healthFlags;

    private static final AtomicIntegerFieldUpdater<Host> FLAGS =
            AtomicIntegerFieldUpdater.newUpdater(Host.class, "healthFlags");
    static final int FAILED_ACTIVE_HC = 1;
    static final int FAILED_OUTLIER_CHECK = 2;
    static final int FAILED_EDS_HEALTH = 4;

    /**
     * Bumped after any host's health flags change, JVM-wide. Balancers compare it with the value they last
     * saw and re-read their hosts' health only when it moved, so a pick costs one volatile read while health
     * is steady. Health changes are rare (ejections, health-check transitions), so sharing one counter is cheap.
     */
    private static final AtomicLong HEALTH_EPOCH = new AtomicLong();

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

    /**
     * Whether the host may receive traffic: no health flag is set (not failed by active health checking, not
     * ejected by outlier detection, not marked unhealthy through {@link #healthy(boolean)}).
     */
    public boolean healthy() {
        return healthFlags == 0;
    }

    /**
     * Marks the host healthy or unhealthy on behalf of whoever supplies the endpoints (Envoy's EDS health
     * status, shown as {@code /failed_eds_health}); independent of health checking and outlier detection.
     */
    public void healthy(boolean healthy) {
        setFlag(FAILED_EDS_HEALTH, !healthy);
    }

    /** Whether active health checking currently fails this host ({@code /failed_active_hc}). */
    public boolean failedActiveHealthCheck() {
        return (healthFlags & FAILED_ACTIVE_HC) != 0;
    }

    /** Set by the active health checker when the host crosses its unhealthy or healthy threshold. */
    public void failedActiveHealthCheck(boolean failed) {
        setFlag(FAILED_ACTIVE_HC, failed);
    }

    /** Whether outlier detection currently ejects this host ({@code /failed_outlier_check}). */
    public boolean failedOutlierCheck() {
        return (healthFlags & FAILED_OUTLIER_CHECK) != 0;
    }

    void failedOutlierCheck(boolean failed) {
        setFlag(FAILED_OUTLIER_CHECK, failed);
    }

    /**
     * Envoy's {@code health_flags} word for {@code /clusters}: {@code healthy}, or the failed flags run together
     * ({@code /failed_active_hc/failed_outlier_check}).
     */
    public String healthFlags() {
        int f = healthFlags;
        if (f == 0) {
            return "healthy";
        }
        StringBuilder sb = new StringBuilder();
        if ((f & FAILED_ACTIVE_HC) != 0) {
            sb.append("/failed_active_hc");
        }
        if ((f & FAILED_OUTLIER_CHECK) != 0) {
            sb.append("/failed_outlier_check");
        }
        if ((f & FAILED_EDS_HEALTH) != 0) {
            sb.append("/failed_eds_health");
        }
        return sb.toString();
    }

    private void setFlag(int flag, boolean on) {
        for (;;) {
            int f = healthFlags;
            int next = on ? f | flag : f & ~flag;
            if (next == f) {
                return;
            }
            if (FLAGS.compareAndSet(this, f, next)) {
                // After the flag: a balancer that sees the new epoch also sees the new flag.
                HEALTH_EPOCH.incrementAndGet();
                return;
            }
        }
    }

    /** The JVM-wide health epoch (see {@link #HEALTH_EPOCH}). */
    static long healthEpoch() {
        return HEALTH_EPOCH.get();
    }

    @Override
    public String toString() {
        return hostPort;
    }
}
