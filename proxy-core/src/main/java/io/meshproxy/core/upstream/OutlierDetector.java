package io.meshproxy.core.upstream;

import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.resilience.Outcome;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Passive health checking of one cluster's hosts, as Envoy's consecutive-error outlier detection (Istio's
 * {@code outlierDetection}): it is told the {@link Outcome} of every attempt and ejects a host that fails too
 * many times in a row. An ejected host has {@link Host#failedOutlierCheck()} set, so it is not
 * {@link Host#healthy()} and the load balancers skip it (unless they are in panic mode).
 *
 * <p><b>What counts.</b> With {@link OutlierDetection#splitExternalLocalOriginErrors()} off, every failure
 * counts toward {@code consecutive5xxErrors}, and 502/503/504 answers and local-origin failures (connect
 * failure, reset, timeout) toward {@code consecutiveGatewayErrors}; another 5xx answer breaks a run of gateway
 * errors; a success breaks both runs. With it on, only the upstream's own answers count toward those two,
 * local-origin failures count toward {@code consecutiveLocalOriginFailures} alone, and any answer from the
 * upstream breaks a run of local-origin failures. A threshold of 0 disables its detector.
 *
 * <p><b>Ejection</b> happens as soon as a threshold is reached, not at the next interval, if
 * {@code maxEjectionPercent} allows it: one host may be ejected whenever none is (as Envoy), and more only
 * while {@code 100 * (ejected + 1) / hosts <= maxEjectionPercent}; a {@code maxEjectionPercent} of 0 ejects
 * nothing. A refused ejection is counted as {@code ejections_overflow} and the host's run starts again, so it
 * is ejected after another full run if room has appeared by then. The n-th ejection of a host in a row lasts
 * {@code n * baseEjectionTime}, at most {@code max(maxEjectionTime, baseEjectionTime)}. An ejection resets the
 * host's runs.
 *
 * <p><b>The sweep</b>, every {@code interval}, ends the ejections whose time has passed (so a host returns at
 * the first sweep after its ejection time), and lowers by one the ejection count of each host that is not
 * ejected: a host that behaves for long starts again at {@code baseEjectionTime}.
 *
 * <p>{@link #report} is called from every event loop; the runs are atomics, so it takes no lock. Only an
 * actual ejection (rare) and the sweep take this detector's monitor. Time comes from the injected nano clock.
 */
public final class OutlierDetector implements AutoCloseable {
    private final OutlierDetection config;
    private final ClusterStats stats;
    private final LongSupplier nanoClock;
    /** Read-only after construction, so lookups from any thread need no lock. */
    private final Map<Host, Monitor> monitors;
    private final int hostCount;
    private final long baseNanos;
    private final long maxNanos;
    /** Guarded by {@code this}. */
    private int ejected;
    private ScheduledFuture<?> sweepTask;
    private volatile boolean closed;

    /** Why a host was ejected, for the per-detector counters. */
    private enum Detector { CONSECUTIVE_5XX, CONSECUTIVE_GATEWAY_FAILURE, CONSECUTIVE_LOCAL_ORIGIN_FAILURE }

    /** Per-host runs (atomics, any thread) and ejection state (guarded by the detector). */
    private static final class Monitor {
        final AtomicInteger consecutive5xx = new AtomicInteger();
        final AtomicInteger consecutiveGateway = new AtomicInteger();
        final AtomicInteger consecutiveLocalOrigin = new AtomicInteger();
        /** Ejections in a row, decayed by one per sweep while not ejected; guarded by the detector. */
        int ejections;
        /** When the current ejection may end, on the nano clock. */
        volatile long ejectedUntil;

        void resetRuns() {
            reset(consecutive5xx);
            reset(consecutiveGateway);
            reset(consecutiveLocalOrigin);
        }
    }

    /**
     * @param hosts the cluster's hosts; outcomes reported for other hosts are ignored
     * @param stats where ejections are counted
     * @param nanoClock the time source, {@code System::nanoTime} in production
     */
    public OutlierDetector(OutlierDetection config, List<Host> hosts, ClusterStats stats, LongSupplier nanoClock) {
        this.config = Objects.requireNonNull(config, "config");
        this.stats = Objects.requireNonNull(stats, "stats");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        Map<Host, Monitor> m = new IdentityHashMap<>();
        for (Host h : hosts) {
            m.put(h, new Monitor());
        }
        this.monitors = m;
        this.hostCount = m.size();
        this.baseNanos = config.baseEjectionTime().toNanos();
        this.maxNanos = Math.max(config.maxEjectionTime().toNanos(), baseNanos);
    }

    /** Runs {@link #sweep()} every {@code interval} on {@code scheduler} until {@link #close()}. */
    public synchronized void start(ScheduledExecutorService scheduler) {
        if (closed || sweepTask != null) {
            return;
        }
        long interval = config.interval().toNanos();
        sweepTask = scheduler.scheduleAtFixedRate(this::sweep, interval, interval, TimeUnit.NANOSECONDS);
    }

    /** The configuration this detector applies. */
    public OutlierDetection config() {
        return config;
    }

    /**
     * Learns the outcome of one attempt to {@code host}; ejects it when this completes a run. Lock-free unless
     * it ejects. Outcomes for a host already ejected (answers still in flight) are ignored.
     */
    public void report(Host host, Outcome outcome) {
        Monitor m = monitors.get(host);
        if (m == null || closed || host.failedOutlierCheck()) {
            return;
        }
        if (config.splitExternalLocalOriginErrors()) {
            if (outcome.isLocalOrigin()) {
                if (reached(m.consecutiveLocalOrigin, config.consecutiveLocalOriginFailures())) {
                    eject(host, m, Detector.CONSECUTIVE_LOCAL_ORIGIN_FAILURE);
                }
                return;
            }
            // The upstream answered: a run of local-origin failures ends.
            reset(m.consecutiveLocalOrigin);
        }
        if (!outcome.isFailure()) {
            reset(m.consecutive5xx);
            reset(m.consecutiveGateway);
            return;
        }
        // Unsplit, local-origin failures land here and count as gateway errors (as Envoy maps them to 503).
        if (outcome.isGatewayFailure()) {
            if (reached(m.consecutiveGateway, config.consecutiveGatewayErrors())) {
                eject(host, m, Detector.CONSECUTIVE_GATEWAY_FAILURE);
                return;
            }
        } else {
            reset(m.consecutiveGateway);
        }
        if (reached(m.consecutive5xx, config.consecutive5xxErrors())) {
            eject(host, m, Detector.CONSECUTIVE_5XX);
        }
    }

    /** Counts one more in a run; true when it reaches {@code threshold} (never when the threshold is 0). */
    private static boolean reached(AtomicInteger run, int threshold) {
        return threshold > 0 && run.incrementAndGet() >= threshold;
    }

    /** Ends a run; writes only when needed, so successes do not bounce the cache line between event loops. */
    private static void reset(AtomicInteger run) {
        if (run.get() != 0) {
            run.set(0);
        }
    }

    private synchronized void eject(Host host, Monitor m, Detector detector) {
        if (closed || host.failedOutlierCheck()) {
            return;
        }
        m.resetRuns();
        int max = config.maxEjectionPercent();
        boolean allowed = max > 0 && (ejected == 0 || 100L * (ejected + 1) <= (long) max * hostCount);
        if (!allowed) {
            stats.ejectionsOverflow.increment();
            return;
        }
        // The ejection count never needs to grow past the one that reaches the cap.
        m.ejections = (int) Math.min((long) m.ejections + 1, maxNanos / baseNanos + 1);
        long duration = Math.min(baseNanos * m.ejections, maxNanos);
        m.ejectedUntil = nanoClock.getAsLong() + duration;
        host.failedOutlierCheck(true);
        ejected++;
        stats.ejectionsEnforcedTotal.increment();
        stats.ejectionsActive.increment();
        switch (detector) {
            case CONSECUTIVE_5XX -> stats.ejectionsEnforcedConsecutive5xx.increment();
            case CONSECUTIVE_GATEWAY_FAILURE -> stats.ejectionsEnforcedConsecutiveGatewayFailure.increment();
            case CONSECUTIVE_LOCAL_ORIGIN_FAILURE -> stats.ejectionsEnforcedConsecutiveLocalOriginFailure.increment();
        }
    }

    /**
     * One review (run every {@code interval} once started): returns the hosts whose ejection time has passed
     * and decays the ejection count of the hosts not ejected.
     */
    synchronized void sweep() {
        if (closed) {
            return;
        }
        long now = nanoClock.getAsLong();
        for (Map.Entry<Host, Monitor> e : monitors.entrySet()) {
            Host host = e.getKey();
            Monitor m = e.getValue();
            if (host.failedOutlierCheck()) {
                if (now - m.ejectedUntil >= 0) {
                    m.resetRuns();
                    host.failedOutlierCheck(false);
                    ejected--;
                    stats.ejectionsActive.decrement();
                }
            } else if (m.ejections > 0) {
                m.ejections--;
            }
        }
    }

    /** Whether outlier detection ejects {@code host} now. */
    public boolean ejected(Host host) {
        return monitors.containsKey(host) && host.failedOutlierCheck();
    }

    /** How many hosts are ejected now. */
    public synchronized int ejectedCount() {
        return ejected;
    }

    /**
     * Milliseconds until {@code host}'s ejection may end (it ends at the first sweep after that); 0 when it is
     * not ejected.
     */
    public long ejectedRemainingMillis(Host host) {
        Monitor m = monitors.get(host);
        if (m == null || !host.failedOutlierCheck()) {
            return 0;
        }
        long remaining = m.ejectedUntil - nanoClock.getAsLong();
        return remaining <= 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(remaining);
    }

    /** Stops the sweep; outcomes are ignored from now on. Hosts keep their current state. */
    @Override
    public void close() {
        ScheduledFuture<?> task;
        synchronized (this) {
            closed = true;
            task = sweepTask;
        }
        if (task != null) {
            task.cancel(false);
        }
    }
}
