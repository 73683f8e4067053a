package io.meshproxy.core.upstream;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Least request, as Envoy's.
 *
 * <p><b>Equal weights:</b> power of two choices. Two distinct eligible hosts are drawn at random and the one
 * with fewer active requests wins (a tie goes to the first drawn). O(1).
 *
 * <p><b>Unequal weights:</b> each eligible host's effective weight is {@code weight / (activeRequests + 1)}
 * (Envoy's {@code active_request_bias} of 1.0), read afresh on every pick, and a smooth weighted round robin
 * runs over the effective weights: every pick adds each host's effective weight to its running credit, takes
 * the host with the most credit and charges it the total. With no load the split follows the configured
 * weights exactly; a loaded host's share shrinks in proportion to its load. O(n).
 *
 * <p>Health is checked at every pick (see {@link HealthSnapshot}: eligible means healthy, or any host while in
 * panic mode). Power of two choices redraws a pair that contains an ineligible host (a few times) and then
 * falls back to one O(n) pass that draws two distinct hosts among the eligible ones only. The weighted
 * schedule restarts its credits when the eligible set changes.
 *
 * <p>Not thread-safe: one instance per event loop. Active-request counts are shared by all loops.
 */
final class LeastRequestBalancer implements LoadBalancer {

    /** Pair draws over all hosts before falling back to one pass over the eligible ones. */
    private static final int ATTEMPTS = 4;
    /** At most this many schedule steps are simulated to place the starting offset (bounds the reset cost). */
    private static final int MAX_OFFSET = 64;

    private final Host[] hosts;
    /** The injected generator, or null for {@link java.util.concurrent.ThreadLocalRandom} at pick time. */
    private final RandomGenerator random;
    private final HealthSnapshot health;
    /** Unequal weights only: configured weights, running credits, schedule offset. */
    private final double[] weights;
    private final double[] credit;
    private final int offset;

    LeastRequestBalancer(Host[] hosts, RandomGenerator random, HealthSnapshot health) {
        this.hosts = hosts;
        this.random = random;
        this.health = health;
        if (LoadBalancers.equalWeights(hosts)) {
            this.weights = null;
            this.credit = null;
            this.offset = 0;
        } else {
            int n = hosts.length;
            this.weights = new double[n];
            for (int i = 0; i < n; i++) {
                weights[i] = hosts[i].weight();
            }
            this.credit = new double[n];
            this.offset = LoadBalancers.random(random).nextInt(MAX_OFFSET);
            restartSchedule();
        }
    }

    @Override
    public Host pick() {
        boolean changed = health.refresh();
        if (weights == null) {
            return pickTwoChoices();
        }
        if (changed) {
            restartSchedule();
        }
        int i = step();
        return i < 0 ? null : hosts[i];
    }

    // ---- equal weights: power of two choices ----

    private Host pickTwoChoices() {
        Host[] hs = hosts;
        HealthSnapshot hh = health;
        int n = hs.length;
        if (n <= 1) {
            return n == 1 && hh.eligible(0) ? hs[0] : null;
        }
        RandomGenerator rnd = LoadBalancers.random(random);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int i = rnd.nextInt(n);
            int j = rnd.nextInt(n - 1);
            if (j >= i) {
                j++;
            }
            if (hh.eligible(i) && hh.eligible(j)) {
                return lessLoaded(hs[i], hs[j]);
            }
        }
        return pickTwoAmongEligible(rnd);
    }

    private Host pickTwoAmongEligible(RandomGenerator rnd) {
        int count = health.eligibleCount();
        if (count == 0) {
            return null;
        }
        if (count == 1) {
            return nthEligible(0);
        }
        int i = rnd.nextInt(count);
        int j = rnd.nextInt(count - 1);
        if (j >= i) {
            j++;
        }
        return lessLoaded(nthEligible(i), nthEligible(j));
    }

    /** The {@code n}-th eligible host of the snapshot (which stays fixed during a pick). */
    private Host nthEligible(int n) {
        int seen = 0;
        for (int i = 0; i < hosts.length; i++) {
            if (health.eligible(i) && seen++ == n) {
                return hosts[i];
            }
        }
        throw new IllegalStateException("eligible count out of step with the snapshot");
    }

    private static Host lessLoaded(Host a, Host b) {
        return b.activeRequests() < a.activeRequests() ? b : a;
    }

    // ---- unequal weights: smooth weighted round robin over weight / (active + 1) ----

    private void restartSchedule() {
        Arrays.fill(credit, 0.0);
        long total = 0;
        for (int i = 0; i < hosts.length; i++) {
            if (health.eligible(i)) {
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
            if (!health.eligible(i)) {
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
