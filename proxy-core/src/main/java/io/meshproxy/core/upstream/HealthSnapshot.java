package io.meshproxy.core.upstream;

import java.util.concurrent.atomic.LongAdder;

/**
 * One balancer's private view of which of its hosts may be picked, refreshed at the start of every pick.
 *
 * <p>A host is <em>eligible</em> when it is healthy, or when the balancer is in panic mode (Envoy's
 * {@code healthy_panic_threshold}): fewer than {@code panicThreshold} percent of the hosts are healthy, so
 * health is ignored and load spreads over all of them rather than crushing the few healthy ones. A threshold
 * of 0 disables panic: with no healthy host nothing is eligible.
 *
 * <p>Re-reading every host costs O(n); it happens only when the JVM-wide health epoch ({@link
 * Host#healthEpoch()}) moved since the last reading, so while health is steady a refresh is one volatile read.
 * Balancers that keep per-host selection state (the smooth weighted ones) use the change signal to start
 * their schedule afresh over the new eligible set. Not thread-safe: it belongs to one balancer, on one event
 * loop. Allocates nothing after construction.
 */
final class HealthSnapshot {
    private final Host[] hosts;
    private final int panicThreshold;
    /** Counts picks made in panic mode; null for none. */
    private final LongAdder panicPicks;
    private final boolean[] eligible;
    /** Each host's health as read by the current reading (one read per host, so counts stay consistent). */
    private final boolean[] healthyNow;
    private int eligibleCount;
    private int healthyCount;
    private boolean panic;
    private long epoch;

    /**
     * @param panicThreshold percent of hosts that must be healthy for health to be honoured; 0 disables panic
     * @param panicPicks counts each {@link #refresh()} (one per pick) made in panic mode; null for none
     */
    HealthSnapshot(Host[] hosts, int panicThreshold, LongAdder panicPicks) {
        if (panicThreshold < 0 || panicThreshold > 100) {
            throw new IllegalArgumentException("panicThreshold: must be in 0..100, was " + panicThreshold);
        }
        this.hosts = hosts;
        this.panicThreshold = panicThreshold;
        this.panicPicks = panicPicks;
        this.eligible = new boolean[hosts.length];
        this.healthyNow = new boolean[hosts.length];
        read();
    }

    /**
     * Re-reads health if any host's health changed since the last reading. Returns true when the eligible set
     * differs from the previous reading (the constructor takes the first reading). Balancers call it once per
     * pick.
     */
    boolean refresh() {
        boolean changed = Host.healthEpoch() != epoch && read();
        if (panic && panicPicks != null) {
            panicPicks.increment();
        }
        return changed;
    }

    private boolean read() {
        // The epoch first: a change racing with this reading moves it again, and the next pick re-reads.
        epoch = Host.healthEpoch();
        Host[] hs = hosts;
        int n = hs.length;
        boolean[] now = healthyNow;
        int healthy = 0;
        for (int i = 0; i < n; i++) {
            boolean h = hs[i].healthy();
            now[i] = h;
            if (h) {
                healthy++;
            }
        }
        // Envoy: panic when the healthy percentage is below the threshold (so no healthy host at all panics too).
        boolean p = panicThreshold > 0 && n > 0 && 100L * healthy < (long) panicThreshold * n;
        boolean changed = false;
        int count = 0;
        for (int i = 0; i < n; i++) {
            boolean e = p || now[i];
            if (e != eligible[i]) {
                eligible[i] = e;
                changed = true;
            }
            if (e) {
                count++;
            }
        }
        healthyCount = healthy;
        eligibleCount = count;
        panic = p;
        return changed;
    }

    /** Whether host {@code i} may be picked, as of the last reading. */
    boolean eligible(int i) {
        return eligible[i];
    }

    /** How many hosts may be picked, as of the last reading. */
    int eligibleCount() {
        return eligibleCount;
    }

    /** How many hosts were healthy at the last reading. */
    int healthyCount() {
        return healthyCount;
    }

    /** Whether the last reading put the balancer in panic mode. */
    boolean panic() {
        return panic;
    }
}
