package io.meshproxy.core.upstream;

import static io.meshproxy.core.upstream.HostFixtures.assertNeverPicked;
import static io.meshproxy.core.upstream.HostFixtures.assertShare;
import static io.meshproxy.core.upstream.HostFixtures.count;
import static io.meshproxy.core.upstream.HostFixtures.equalHosts;
import static io.meshproxy.core.upstream.HostFixtures.hosts;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.core.config.LbPolicy;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RandomBalancerTest {

    private static final int PICKS = 20_000;
    private static final double TOLERANCE = 0.03;

    private static LoadBalancer random(List<Host> hosts, long seed) {
        return LoadBalancer.create(LbPolicy.RANDOM, hosts, new SplittableRandom(seed));
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void weightedSharesFollowWeights(long seed) {
        List<Host> hosts = hosts(1, 2, 3, 4);
        Map<Host, Integer> counts = count(random(hosts, seed), PICKS);
        for (Host h : hosts) {
            assertShare(counts, h, h.weight() / 10.0, PICKS, TOLERANCE);
        }
    }

    @Test
    void heavyHostAmongManyLightOnes() {
        List<Host> hosts = hosts(50, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Map<Host, Integer> counts = count(random(hosts, 9), PICKS);
        assertShare(counts, hosts.get(0), 50 / 75.0, PICKS, TOLERANCE);
        assertShare(counts, hosts.get(25), 1 / 75.0, PICKS, TOLERANCE);
    }

    @Test
    void equalWeightsAreUniform() {
        List<Host> hosts = equalHosts(5);
        Map<Host, Integer> counts = count(random(hosts, 4), PICKS);
        for (Host h : hosts) {
            assertShare(counts, h, 0.2, PICKS, TOLERANCE);
        }
    }

    @Test
    void unhealthyHostIsNeverPickedAndTheRestKeepTheirRelativeShares() {
        List<Host> hosts = hosts(1, 2, 3, 4);
        hosts.get(2).healthy(false);
        Map<Host, Integer> counts = count(random(hosts, 5), PICKS);
        assertNeverPicked(counts, hosts.get(2));
        assertShare(counts, hosts.get(0), 1 / 7.0, PICKS, TOLERANCE);
        assertShare(counts, hosts.get(1), 2 / 7.0, PICKS, TOLERANCE);
        assertShare(counts, hosts.get(3), 4 / 7.0, PICKS, TOLERANCE);
    }

    @Test
    void mostlyUnhealthyHostsFallBackToTheHealthyOnesWithTheirWeights() {
        // 2 healthy hosts of 40 (weights 1 and 3): most draws miss, so the one-pass fallback does the work.
        int[] weights = new int[40];
        java.util.Arrays.fill(weights, 5);
        weights[17] = 1;
        weights[33] = 3;
        List<Host> hosts = hosts(weights);
        for (int i = 0; i < hosts.size(); i++) {
            hosts.get(i).healthy(i == 17 || i == 33);
        }
        Map<Host, Integer> counts = count(random(hosts, 6), PICKS);
        assertEquals(2, counts.size(), "picked " + counts.keySet());
        assertShare(counts, hosts.get(17), 0.25, PICKS, TOLERANCE);
        assertShare(counts, hosts.get(33), 0.75, PICKS, TOLERANCE);
    }
}
