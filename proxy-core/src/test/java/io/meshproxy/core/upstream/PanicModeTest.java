package io.meshproxy.core.upstream;

import static io.meshproxy.core.upstream.HostFixtures.assertNeverPicked;
import static io.meshproxy.core.upstream.HostFixtures.count;
import static io.meshproxy.core.upstream.HostFixtures.hosts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.LbPolicy;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Envoy's healthy_panic_threshold, for every policy, with equal and unequal weights. */
class PanicModeTest {

    static Stream<Arguments> policies() {
        return Stream.of(LbPolicy.values()).flatMap(p -> Stream.of(
                Arguments.of(p, new int[] {1, 1, 1, 1}),
                Arguments.of(p, new int[] {3, 1, 2, 1})));
    }

    private static LoadBalancer create(LbPolicy policy, List<Host> hosts, int threshold, LongAdder panics) {
        return LoadBalancers.create(policy, hosts, new SplittableRandom(policy.ordinal() * 17L + 5), threshold,
                panics);
    }

    @ParameterizedTest
    @MethodSource("policies")
    void belowTheThresholdHealthIsIgnoredAndEveryHostGetsTraffic(LbPolicy policy, int[] weights) {
        List<Host> hosts = hosts(weights);
        LongAdder panics = new LongAdder();
        LoadBalancer lb = create(policy, hosts, 50, panics);
        hosts.get(0).failedActiveHealthCheck(true);
        hosts.get(1).failedOutlierCheck(true);
        hosts.get(2).healthy(false);
        // 1 of 4 healthy: 25% < 50%.
        Map<Host, Integer> counts = count(lb, 4000);
        for (Host h : hosts) {
            assertTrue(counts.getOrDefault(h, 0) > 0, h + " starved in panic; " + counts);
        }
        assertEquals(4000, panics.sum(), "every pick counted as lb_healthy_panic");
    }

    @ParameterizedTest
    @MethodSource("policies")
    void atTheThresholdHealthIsHonoured(LbPolicy policy, int[] weights) {
        List<Host> hosts = hosts(weights);
        LongAdder panics = new LongAdder();
        LoadBalancer lb = create(policy, hosts, 50, panics);
        hosts.get(0).failedActiveHealthCheck(true);
        hosts.get(1).failedOutlierCheck(true);
        // 2 of 4 healthy: 50% is not below 50%.
        Map<Host, Integer> counts = count(lb, 4000);
        assertNeverPicked(counts, hosts.get(0));
        assertNeverPicked(counts, hosts.get(1));
        assertEquals(0, panics.sum());

        hosts.get(2).failedActiveHealthCheck(true); // now 25%: panic
        assertTrue(count(lb, 4000).getOrDefault(hosts.get(0), 0) > 0, "panic spreads over all");
        hosts.get(2).failedActiveHealthCheck(false);
        hosts.get(1).failedOutlierCheck(false); // 75%: out of panic
        assertNeverPicked(count(lb, 4000), hosts.get(0));
    }

    @ParameterizedTest
    @MethodSource("policies")
    void noHealthyHostStillPicksInPanicButGivesNullWithPanicDisabled(LbPolicy policy, int[] weights) {
        List<Host> hosts = hosts(weights);
        LoadBalancer panicking = create(policy, hosts, 50, null);
        LoadBalancer strict = create(policy, hosts, 0, null);
        hosts.forEach(h -> h.failedActiveHealthCheck(true));
        Map<Host, Integer> counts = count(panicking, 4000);
        assertEquals(hosts.size(), counts.size(), "every host picked: " + counts);
        for (int i = 0; i < 100; i++) {
            assertNull(strict.pick(), "threshold 0 disables panic: 503 UH");
        }
    }

    @ParameterizedTest
    @MethodSource("policies")
    void panicPicksDoNotAllocate(LbPolicy policy, int[] weights) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<Host> hosts = hosts(weights);
        LoadBalancer lb = create(policy, hosts, 100, new LongAdder());
        hosts.get(0).failedOutlierCheck(true);
        for (int i = 0; i < 20_000; i++) {
            lb.pick();
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 200_000; i++) {
            lb.pick();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 64 * 1024, policy + " allocated " + allocated + " bytes in 200,000 panic picks");
    }
}
