package io.meshproxy.core.upstream;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Least request, as Envoy's.
 *
 * <p><b>Equal weights:</b> power of two choices. Two distinct healthy hosts are drawn at random and the one
 * with fewer active requests wins (a tie goes to the first drawn). O(1).
 *
 * <p><b>Unequal weights:</b> each healthy host's effective weight is {@code weight / (activeRequests + 1)}
 * (Envoy's {@code active_request_bias} of 1.0), read afresh on every pick, and a smooth weighted round robin
 * runs over the effective weights: every pick adds each host's effective weight to its running credit, takes
 * the host with the most credit and charges it the total. With no load the split follows the configured
 * weights exactly; a loaded host's share shrinks in proportion to its load. O(n).
 *
 * <p>Health is read at pick time. Power of two choices redraws a pair that contains an unhealthy host (a few
 * times) and then falls back to one O(n) pass that draws two distinct hosts among the healthy ones only. The
 * weighted schedule snapshots the healthy set on every pick and restarts its credits when the set changes.
 *
 * <p>Not thread-safe: one instance per event loop. Active-request counts are shared by all loops.
 */
final class LeastRequestBalancer implements LoadBalancer {

    /** Pair draws over all hosts before falling back to one pass over the healthy ones. */
    private static final int ATTEMPTS = 4;
    /** At most this many schedule steps are simulated to place the starting offset (bounds the reset cost). */
    private static final int MAX_OFFSET = 64;

    private final Host[] hosts;
    /** The injected generator, or null for {@link java.util.concurrent.ThreadLocalRandom} at pick time. */
    private final RandomGenerator random;
    /** Unequal weights only: configured weights, running credits, health snapshot, schedule offset. */
    private final double[] weights;
    private final double[] credit;
    private final HealthSnapshot health;
    private final int offset;

    LeastRequestBalancer(Host[] hosts, RandomGenerator random) {
        this.hosts = hosts;
        this.random = random;
        if (LoadBalancers.equalWeights(hosts)) {
            this.weights = null;
            this.credit = null;
            this.health = null;
            this.offset = 0;
        } else {
            int n = hosts.length;
            this.weights = new double[n];
            for (int i = 0; i < n; i++) {
                weights[i] = hosts[i].weight();
            }
            this.credit = new double[n];
            this.health = new HealthSnapshot(hosts);
            this.offset = LoadBalancers.random(random).nextInt(MAX_OFFSET);
            restartSchedule();
        }
    }

    @Override
    public Host pick() {
        if (health == null) {
            return pickTwoChoices();
        }
        if (health.refresh()) {
            restartSchedule();
        }
        int i = step();
        return i < 0 ? null : hosts[i];
    }

    // ---- equal weights: power of two choices ----

    private Host pickTwoChoices() {
        Host[] hs = hosts;
        int n = hs.length;
        if (n <= 1) {
            return n == 1 && hs[0].healthy() ? hs[0] : null;
        }
        RandomGenerator rnd = LoadBalancers.random(random);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int i = rnd.nextInt(n);
            int j = rnd.nextInt(n - 1);
            if (j >= i) {
                j++;
            }
            Host a = hs[i];
            Host b = hs[j];
            if (a.healthy() && b.healthy()) {
                return lessLoaded(a, b);
            }
        }
        return pickTwoAmongHealthy(rnd);
    }

    private Host pickTwoAmongHealthy(RandomGenerator rnd) {
        int count = 0;
        for (Host h : hosts) {
            if (h.healthy()) {
                count++;
            }
        }
        if (count == 0) {
            return null;
        }
        if (count == 1) {
            return nthHealthy(0);
        }
        int i = rnd.nextInt(count);
        int j = rnd.nextInt(count - 1);
        if (j >= i) {
            j++;
        }
        // Health may change between passes; a host that vanished leaves the other one to win.
        Host a = nthHealthy(i);
        Host b = nthHealthy(j);
        if (a == null) {
            return b;
        }
        return b == null ? a : lessLoaded(a, b);
    }

    private Host nthHealthy(int n) {
        int seen = 0;
        for (Host h : hosts) {
            if (h.healthy() && seen++ == n) {
                return h;
            }
        }
        return null;
    }

    private static Host lessLoaded(Host a, Host b) {
        return b.activeRequests() < a.activeRequests() ? b : a;
    }

    // ---- unequal weights: smooth weighted round robin over weight / (active + 1) ----

    private void restartSchedule() {
        Arrays.fill(credit, 0.0);
        long total = 0;
        for (int i = 0; i < hosts.length; i++) {
            if (health.healthy(i)) {
                total += hosts[i].weight();
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

    private int step() {
        Host[] hs = hosts;
        double[] c = credit;
        double total = 0;
        int best = -1;
        double bestCredit = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < hs.length; i++) {
            if (!health.healthy(i)) {
                continue;
            }
            int active = hs[i].activeRequests();
            double effective = weights[i] / ((active > 0 ? active : 0) + 1.0);
            double ci = c[i] + effective;
            c[i] = ci;
            total += effective;
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
