package io.meshproxy.core.upstream;

/**
 * One balancer's private view of which of its hosts are healthy, refreshed at the start of every pick.
 * Balancers that keep per-host selection state (the smooth weighted ones) use it to notice a change of the
 * healthy set and to start their schedule afresh over the new set. Not thread-safe: it belongs to one
 * balancer, on one event loop.
 */
final class HealthSnapshot {
    private final Host[] hosts;
    private final boolean[] healthy;
    private int healthyCount;

    HealthSnapshot(Host[] hosts) {
        this.hosts = hosts;
        this.healthy = new boolean[hosts.length];
        refresh();
    }

    /**
     * Reads every host's health flag. Returns true when the healthy set differs from the previous reading
     * (the constructor takes the first reading).
     */
    boolean refresh() {
        boolean changed = false;
        int count = 0;
        for (int i = 0; i < hosts.length; i++) {
            boolean h = hosts[i].healthy();
            if (h != healthy[i]) {
                healthy[i] = h;
                changed = true;
            }
            if (h) {
                count++;
            }
        }
        healthyCount = count;
        return changed;
    }

    /** Whether host {@code i} was healthy at the last {@link #refresh()}. */
    boolean healthy(int i) {
        return healthy[i];
    }

    /** How many hosts were healthy at the last {@link #refresh()}. */
    int healthyCount() {
        return healthyCount;
    }
}
