package io.meshproxy.core.upstream;

import java.util.random.RandomGenerator;

/**
 * Weighted round robin, smooth as nginx's: every pick adds each eligible host's weight to its running credit,
 * takes the host with the most credit and charges it the total eligible weight. Over a cycle of
 * {@code sum(weights)} picks each host gets exactly its weight in turns, and a heavy host's turns are
 * interleaved with the others' (weights 5, 1, 1 give {@code a a b a c a a}), not bunched. A weighted pick is
 * O(n) in the number of hosts.
 *
 * <p>When all weights are equal, a pick is O(1): a cursor walks the hosts, stepping over ineligible ones, so
 * each eligible host gets one turn per pass.
 *
 * <p>Health is checked at every pick (see {@link HealthSnapshot}: eligible means healthy, or any host while
 * in panic mode). When the eligible set changes, the weighted schedule resets its credits and restarts over
 * the new set, so proportions are exact again from the next full cycle.
 *
 * <p>Each instance starts at its own random offset into the schedule, so the balancers of N event loops do
 * not all send their first request to the same host.
 *
 * <p>Not thread-safe: one instance per event loop.
 */
final class RoundRobinBalancer implements LoadBalancer {

    /** At most this many schedule steps are simulated to place the starting offset (bounds the reset cost). */
    private static final int MAX_OFFSET = 64;

    private final Host[] hosts;
    private final boolean equalWeights;
    private final HealthSnapshot health;
    /** Equal weights: the next host to try. */
    private int cursor;
    /** Weighted: host weights, running credits, and the starting offset of the schedule. */
    private final long[] weights;
    private final long[] credit;
    private final int offset;

    RoundRobinBalancer(Host[] hosts, RandomGenerator random, HealthSnapshot health) {
        this.hosts = hosts;
        this.equalWeights = LoadBalancers.equalWeights(hosts);
        this.health = health;
        int n = hosts.length;
        if (equalWeights || n == 0) {
            this.cursor = n == 0 ? 0 : random.nextInt(n);
            this.weights = null;
            this.credit = null;
            this.offset = 0;
        } else {
            this.weights = new long[n];
            for (int i = 0; i < n; i++) {
                weights[i] = hosts[i].weight();
            }
            this.credit = new long[n];
            this.offset = random.nextInt(MAX_OFFSET);
            restartSchedule();
        }
    }

    @Override
    public Host pick() {
        boolean changed = health.refresh();
        if (weights == null) {
            return pickEqual();
        }
        if (changed) {
            restartSchedule();
        }
        int i = step();
        return i < 0 ? null : hosts[i];
    }

    private Host pickEqual() {
        Host[] hs = hosts;
        int n = hs.length;
        int c = cursor;
        HealthSnapshot hh = health;
        for (int tried = 0; tried < n; tried++) {
            int i = c;
            c = c + 1 == n ? 0 : c + 1;
            if (hh.eligible(i)) {
                cursor = c;
                return hs[i];
            }
        }
        return null;
    }

    /** Zeroes the credits and advances the schedule to this instance's offset within one cycle. */
    private void restartSchedule() {
        java.util.Arrays.fill(credit, 0L);
        long total = 0;
        for (int i = 0; i < hosts.length; i++) {
            if (health.eligible(i)) {
                total += weights[i];
            }
        }
        if (total == 0) {
            return;
        }
        long steps = offset % total;
        for (long s = 0; s < steps; s++) {
            step();
        }
    }

    /** One smooth weighted round robin step over the snapshot's eligible hosts; the chosen index, or -1. */
    private int step() {
        long[] w = weights;
        long[] c = credit;
        long total = 0;
        int best = -1;
        long bestCredit = Long.MIN_VALUE;
        for (int i = 0; i < w.length; i++) {
            if (!health.eligible(i)) {
                continue;
            }
            long ci = c[i] + w[i];
            c[i] = ci;
            total += w[i];
            if (ci > bestCredit) {
                bestCredit = ci;
                best = i;
            }
        }
        if (best >= 0) {
            c[best] -= total;
        }
        return best;
    }
}
