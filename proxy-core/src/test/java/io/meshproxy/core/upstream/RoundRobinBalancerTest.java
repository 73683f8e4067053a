package io.meshproxy.core.upstream;

import static io.meshproxy.core.upstream.HostFixtures.count;
import static io.meshproxy.core.upstream.HostFixtures.equalHosts;
import static io.meshproxy.core.upstream.HostFixtures.hosts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.LbPolicy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RoundRobinBalancerTest {

    private static LoadBalancer roundRobin(List<Host> hosts, long seed) {
        return LoadBalancer.create(LbPolicy.ROUND_ROBIN, hosts, new SplittableRandom(seed));
    }

    @Test
    void equalWeightsVisitEveryHostExactlyEvenly() {
        List<Host> hosts = equalHosts(5);
        LoadBalancer lb = roundRobin(hosts, 1);
        // Every pass of five picks visits each host once.
        for (int pass = 0; pass < 200; pass++) {
            Set<Host> seen = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                seen.add(lb.pick());
            }
            assertEquals(5, seen.size(), "pass " + pass + " repeated a host");
        }
    }

    @Test
    void equalWeightsWithAnUnhealthyHostStayEvenOverTheOthers() {
        List<Host> hosts = equalHosts(4);
        hosts.get(1).healthy(false);
        Map<Host, Integer> counts = count(roundRobin(hosts, 3), 3000);
        assertEquals(Map.of(hosts.get(0), 1000, hosts.get(2), 1000, hosts.get(3), 1000), counts);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 2, 3, 4, 5, 6, 7, 42, 1234})
    void weightedGivesExactProportionsOverEveryFullCycle(long seed) {
        int[] weights = {5, 1, 1, 3, 7};
        int total = 17;
        List<Host> hosts = hosts(weights);
        LoadBalancer lb = roundRobin(hosts, seed);
        for (int cycle = 0; cycle < 20; cycle++) {
            Map<Host, Integer> counts = count(lb, total);
            for (int i = 0; i < weights.length; i++) {
                assertEquals(weights[i], counts.getOrDefault(hosts.get(i), 0),
                        "cycle " + cycle + ", host of weight " + weights[i] + "; counts " + counts);
            }
        }
    }

    @Test
    void weightedInterleavesTheHeavyHostAsNginxDoes() {
        List<Host> hosts = hosts(5, 1, 1);
        Map<Host, String> names = Map.of(hosts.get(0), "a", hosts.get(1), "b", hosts.get(2), "c");
        // The starting offset differs per instance, so the cycle is some rotation of "aabacaa".
        String doubled = "aabacaa".repeat(2);
        for (long seed = 0; seed < 10; seed++) {
            LoadBalancer lb = roundRobin(hosts, seed);
            StringBuilder cycle = new StringBuilder();
            for (int i = 0; i < 7; i++) {
                cycle.append(names.get(lb.pick()));
            }
            assertTrue(doubled.contains(cycle), "seed " + seed + " gave cycle " + cycle);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"5,1,1", "10,1", "6,5", "8,7,6", "20,10,10", "3,2,1,7", "100,1,1,1", "9,3,3,1", "2,3"})
    void weightedIsSmooth(String spec) {
        assertSmooth(java.util.Arrays.stream(spec.split(",")).mapToInt(Integer::parseInt).toArray(), 7);
    }

    @Test
    void weightedIsSmoothForRandomWeights() {
        SplittableRandom random = new SplittableRandom(2024);
        for (int trial = 0; trial < 300; trial++) {
            int[] weights = new int[2 + random.nextInt(6)];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = 1 + random.nextInt(30);
            }
            assertSmooth(weights, trial);
        }
    }

    /**
     * Over three full cycles (so runs that wrap a cycle boundary count), no host runs more than
     * {@code ceil(w / w_other) + 1} times in a row, {@code w_other} being the lightest other host's weight.
     * A scheduler that bunches a host's turns (weights 6, 5 as {@code aaaaaabbbbb}) fails this.
     */
    private static void assertSmooth(int[] weights, long seed) {
        int total = java.util.Arrays.stream(weights).sum();
        List<Host> hosts = hosts(weights);
        LoadBalancer lb = roundRobin(hosts, seed);
        List<Host> picks = new ArrayList<>();
        for (int i = 0; i < 3 * total; i++) {
            picks.add(lb.pick());
        }
        int run = 0;
        for (int i = 0; i < picks.size(); i++) {
            Host h = picks.get(i);
            run = i > 0 && h == picks.get(i - 1) ? run + 1 : 1;
            int lightestOther = hosts.stream().filter(o -> o != h).mapToInt(Host::weight).min().orElseThrow();
            int bound = (h.weight() + lightestOther - 1) / lightestOther + 1;
            assertTrue(run <= bound, "weights " + java.util.Arrays.toString(weights) + ": host of weight "
                    + h.weight() + " ran " + run + " times in a row (bound " + bound + ")");
        }
    }

    @Test
    void instancesStartAtDifferentHosts() {
        List<Host> equal = equalHosts(4);
        List<Host> weighted = hosts(3, 2, 2, 1);
        Set<Host> firstEqual = new HashSet<>();
        Set<Host> firstWeighted = new HashSet<>();
        for (long seed = 0; seed < 32; seed++) {
            firstEqual.add(roundRobin(equal, seed).pick());
            firstWeighted.add(roundRobin(weighted, seed).pick());
        }
        assertEquals(4, firstEqual.size(), "first picks of 32 equal-weight balancers: " + firstEqual);
        assertTrue(firstWeighted.size() >= 3, "first picks of 32 weighted balancers: " + firstWeighted);
        // And without an injected generator (ThreadLocalRandom), too.
        Set<Host> firstDefault = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            firstDefault.add(LoadBalancer.create(LbPolicy.ROUND_ROBIN, equal).pick());
        }
        assertTrue(firstDefault.size() > 1, "64 balancers all started at " + firstDefault);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
    void weightedRestartsExactCyclesAfterAHealthChange(long seed) {
        List<Host> hosts = hosts(4, 2, 1, 1);
        LoadBalancer lb = roundRobin(hosts, seed);
        for (int midCycle = 1; midCycle < 8; midCycle++) {
            count(lb, midCycle);
            hosts.get(1).healthy(false);
            // Every cycle of the remaining weight (6) is exact from the first pick after the change...
            for (int cycle = 0; cycle < 3; cycle++) {
                assertEquals(Map.of(hosts.get(0), 4, hosts.get(2), 1, hosts.get(3), 1), count(lb, 6),
                        "seed " + seed + ", cycle " + cycle + " after the host went out");
            }
            count(lb, midCycle);
            hosts.get(1).healthy(true);
            // ...and so is every cycle of the full weight (8) once it is back.
            for (int cycle = 0; cycle < 3; cycle++) {
                assertEquals(Map.of(hosts.get(0), 4, hosts.get(1), 2, hosts.get(2), 1, hosts.get(3), 1),
                        count(lb, 8), "seed " + seed + ", cycle " + cycle + " after the host came back");
            }
        }
    }
}
