package io.meshproxy.core.upstream;

import java.util.random.RandomGenerator;

/**
 * Weighted random: a draw in {@code [0, sum(weights))} is located in the prefix sums of the weights by binary
 * search, O(log n); with equal weights a uniform index is drawn instead, O(1).
 *
 * <p>Health is checked at every pick (see {@link HealthSnapshot}: eligible means healthy, or any host while in
 * panic mode). A draw that lands on an ineligible host is redrawn (a few times); if all draws miss, one O(n)
 * pass draws over the eligible hosts' weights only. Either way an eligible host is chosen with probability
 * proportional to its weight among the eligible hosts.
 *
 * <p>Not thread-safe: one instance per event loop.
 */
final class RandomBalancer implements LoadBalancer {

    /** Draws over all hosts before falling back to one pass over the eligible ones. */
    private static final int ATTEMPTS = 4;

    private final Host[] hosts;
    private final boolean equalWeights;
    /** {@code prefix[i]} is the sum of the weights of hosts 0..i. */
    private final long[] prefix;
    private final long total;
    /** The injected generator, or null for {@link java.util.concurrent.ThreadLocalRandom} at pick time. */
    private final RandomGenerator random;
    private final HealthSnapshot health;

    RandomBalancer(Host[] hosts, RandomGenerator random, HealthSnapshot health) {
        this.hosts = hosts;
        this.random = random;
        this.health = health;
        this.equalWeights = LoadBalancers.equalWeights(hosts);
        this.prefix = new long[hosts.length];
        long sum = 0;
        for (int i = 0; i < hosts.length; i++) {
            sum += hosts[i].weight();
            prefix[i] = sum;
        }
        this.total = sum;
    }

    @Override
    public Host pick() {
        int n = hosts.length;
        if (n == 0) {
            return null;
        }
        HealthSnapshot hh = health;
        hh.refresh();
        RandomGenerator rnd = LoadBalancers.random(random);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int i = equalWeights ? rnd.nextInt(n) : indexOf(rnd.nextLong(total));
            if (hh.eligible(i)) {
                return hosts[i];
            }
        }
        return pickAmongEligible(rnd);
    }

    /** The smallest index whose prefix sum exceeds {@code r}. */
    private int indexOf(long r) {
        long[] p = prefix;
        int lo = 0;
        int hi = p.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (p[mid] > r) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private Host pickAmongEligible(RandomGenerator rnd) {
        Host[] hs = hosts;
        HealthSnapshot hh = health;
        long eligibleTotal = 0;
        for (int i = 0; i < hs.length; i++) {
            if (hh.eligible(i)) {
                eligibleTotal += hs[i].weight();
            }
        }
        if (eligibleTotal == 0) {
            return null;
        }
        long r = rnd.nextLong(eligibleTotal);
        for (int i = 0; i < hs.length; i++) {
            if (hh.eligible(i)) {
                r -= hs[i].weight();
                if (r < 0) {
                    return hs[i];
                }
            }
        }
        throw new IllegalStateException("eligible weights out of step with the snapshot");
    }
}
