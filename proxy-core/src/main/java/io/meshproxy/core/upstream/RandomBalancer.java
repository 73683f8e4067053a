package io.meshproxy.core.upstream;

import java.util.random.RandomGenerator;

/**
 * Weighted random: a draw in {@code [0, sum(weights))} is located in the prefix sums of the weights by binary
 * search, O(log n); with equal weights a uniform index is drawn instead, O(1).
 *
 * <p>Health is read at pick time. A draw that lands on an unhealthy host is redrawn (a few times); if all
 * draws miss, one O(n) pass draws over the healthy hosts' weights only. Either way a healthy host is chosen
 * with probability proportional to its weight among the healthy hosts.
 *
 * <p>Not thread-safe: one instance per event loop.
 */
final class RandomBalancer implements LoadBalancer {

    /** Draws over all hosts before falling back to one pass over the healthy ones. */
    private static final int ATTEMPTS = 4;

    private final Host[] hosts;
    private final boolean equalWeights;
    /** {@code prefix[i]} is the sum of the weights of hosts 0..i. */
    private final long[] prefix;
    private final long total;
    /** The injected generator, or null for {@link java.util.concurrent.ThreadLocalRandom} at pick time. */
    private final RandomGenerator random;

    RandomBalancer(Host[] hosts, RandomGenerator random) {
        this.hosts = hosts;
        this.random = random;
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
        RandomGenerator rnd = LoadBalancers.random(random);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Host h = hosts[equalWeights ? rnd.nextInt(n) : indexOf(rnd.nextLong(total))];
            if (h.healthy()) {
                return h;
            }
        }
        return pickAmongHealthy(rnd);
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

    private Host pickAmongHealthy(RandomGenerator rnd) {
        Host[] hs = hosts;
        long healthyTotal = 0;
        for (Host h : hs) {
            if (h.healthy()) {
                healthyTotal += h.weight();
            }
        }
        if (healthyTotal == 0) {
            return null;
        }
        long r = rnd.nextLong(healthyTotal);
        Host last = null;
        for (Host h : hs) {
            // A host may turn unhealthy between the two passes; it is then skipped and the last healthy
            // host seen absorbs the remainder.
            if (h.healthy()) {
                last = h;
                r -= h.weight();
                if (r < 0) {
                    return h;
                }
            }
        }
        return last;
    }
}
