package io.meshproxy.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.EndpointConfig;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** Hosts on loopback with given weights, and pick counting, for the balancer tests. */
final class HostFixtures {
    private HostFixtures() {}

    /** One host per weight, on 127.0.0.1, ports 8080, 8081, ... */
    static List<Host> hosts(int... weights) {
        List<Host> hosts = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            hosts.add(new Host(new EndpointConfig("127.0.0.1", 8080 + i, weights[i], Map.of())));
        }
        return hosts;
    }

    /** {@code n} hosts of weight 1. */
    static List<Host> equalHosts(int n) {
        int[] weights = new int[n];
        java.util.Arrays.fill(weights, 1);
        return hosts(weights);
    }

    /** Picks {@code picks} times and counts the picks per host; every pick must return a host. */
    static Map<Host, Integer> count(LoadBalancer lb, int picks) {
        Map<Host, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < picks; i++) {
            Host h = lb.pick();
            assertNotNull(h, "pick " + i + " returned no host");
            counts.merge(h, 1, Integer::sum);
        }
        return counts;
    }

    /** Asserts that each host's share of {@code picks} is within {@code tolerance} of {@code expected}. */
    static void assertShare(Map<Host, Integer> counts, Host host, double expected, int picks, double tolerance) {
        double share = counts.getOrDefault(host, 0) / (double) picks;
        assertTrue(Math.abs(share - expected) <= tolerance,
                host + " got share " + share + ", expected " + expected + " +/- " + tolerance + "; counts " + counts);
    }

    static void assertNeverPicked(Map<Host, Integer> counts, Host host) {
        assertEquals(0, counts.getOrDefault(host, 0), host + " was picked; counts " + counts);
    }
}
