package io.meshproxy.core.upstream;

import static io.meshproxy.core.upstream.HostFixtures.assertNeverPicked;
import static io.meshproxy.core.upstream.HostFixtures.count;
import static io.meshproxy.core.upstream.HostFixtures.hosts;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.LbPolicy;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What every policy owes the router, with equal and with unequal weights. */
class LoadBalancerHealthTest {

    static Stream<Arguments> policies() {
        return Stream.of(LbPolicy.values()).flatMap(p -> Stream.of(
                Arguments.of(p, new int[] {1, 1, 1, 1, 1}),
                Arguments.of(p, new int[] {4, 1, 2, 1, 3})));
    }

    private static LoadBalancer create(LbPolicy policy, List<Host> hosts) {
        return LoadBalancer.create(policy, hosts, new SplittableRandom(policy.ordinal() * 31L + hosts.size()));
    }

    @ParameterizedTest
    @MethodSource("policies")
    void unhealthyHostsAreNeverPicked(LbPolicy policy, int[] weights) {
        List<Host> hosts = hosts(weights);
        hosts.get(0).healthy(false);
        hosts.get(3).healthy(false);
        Map<Host, Integer> counts = count(create(policy, hosts), 5000);
        assertNeverPicked(counts, hosts.get(0));
        assertNeverPicked(counts, hosts.get(3));
        for (int i : new int[] {1, 2, 4}) {
            assertTrue(counts.getOrDefault(hosts.get(i), 0) > 0, hosts.get(i) + " starved; " + counts);
        }
    }

    @ParameterizedTest
    @MethodSource("policies")
    void allUnhealthyGivesNull(LbPolicy policy, int[] weights) {
        List<Host> hosts = hosts(weights);
        LoadBalancer lb = create(policy, hosts);
        lb.pick();
        hosts.forEach(h -> h.healthy(false));
        for (int i = 0; i < 100; i++) {
            assertNull(lb.pick());
        }
        hosts.get(2).healthy(true);
        for (int i = 0; i < 100; i++) {
            assertTrue(lb.pick() == hosts.get(2));
        }
    }

    @ParameterizedTest
    @MethodSource("policies")
    void unhealthyFromTheStartGivesNull(LbPolicy policy, int[] weights) {
        List<Host> hosts = hosts(weights);
        hosts.forEach(h -> h.healthy(false));
        assertNull(create(policy, hosts).pick());
    }

    @Test
    void noHostsGivesNull() {
        for (LbPolicy policy : LbPolicy.values()) {
            assertNull(LoadBalancer.create(policy, List.of()).pick(), policy.name());
            assertNull(create(policy, List.of()).pick(), policy.name());
        }
    }

    @ParameterizedTest
    @MethodSource("policies")
    void hostMarkedUnhealthyMidwayStopsReceivingPicksAndResumesWhenHealthy(LbPolicy policy, int[] weights) {
        List<Host> hosts = hosts(weights);
        LoadBalancer lb = create(policy, hosts);
        Host flapping = hosts.get(1);
        assertTrue(count(lb, 2000).getOrDefault(flapping, 0) > 0, "picked before");
        flapping.healthy(false);
        assertNeverPicked(count(lb, 2000), flapping);
        flapping.healthy(true);
        assertTrue(count(lb, 2000).getOrDefault(flapping, 0) > 0, "picked again once healthy");
    }

    @ParameterizedTest
    @MethodSource("policies")
    void picksDoNotAllocate(LbPolicy policy, int[] weights) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<Host> hosts = hosts(weights);
        hosts.get(4).healthy(false);
        // Injected generator and ThreadLocalRandom both.
        for (LoadBalancer lb : List.of(create(policy, hosts), LoadBalancer.create(policy, hosts))) {
            for (int i = 0; i < 20_000; i++) {
                lb.pick();
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 200_000; i++) {
                lb.pick();
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            // A single 16-byte object per pick would be 3.2 MB; allow a little for the measurement itself.
            assertTrue(allocated < 64 * 1024, policy + " allocated " + allocated + " bytes in 200,000 picks");
        }
    }
}
