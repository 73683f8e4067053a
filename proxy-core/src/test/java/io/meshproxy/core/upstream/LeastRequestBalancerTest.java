package io.meshproxy.core.upstream;

import static io.meshproxy.core.upstream.HostFixtures.assertNeverPicked;
import static io.meshproxy.core.upstream.HostFixtures.assertShare;
import static io.meshproxy.core.upstream.HostFixtures.count;
import static io.meshproxy.core.upstream.HostFixtures.equalHosts;
import static io.meshproxy.core.upstream.HostFixtures.hosts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.LbPolicy;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LeastRequestBalancerTest {

    private static final int PICKS = 20_000;
    private static final double TOLERANCE = 0.03;

    private static LoadBalancer leastRequest(List<Host> hosts, long seed) {
        return LoadBalancer.create(LbPolicy.LEAST_REQUEST, hosts, new SplittableRandom(seed));
    }

    private static void load(Host host, int requests) {
        for (int i = 0; i < requests; i++) {
            host.requestStarted();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void twoHostsNeverPicksTheBusierOne(int busy) {
        List<Host> hosts = equalHosts(2);
        load(hosts.get(busy), 20);
        load(hosts.get(1 - busy), 3);
        LoadBalancer lb = leastRequest(hosts, 1);
        for (int i = 0; i < 5000; i++) {
            assertSame(hosts.get(1 - busy), lb.pick());
        }
    }

    @Test
    void twoIdleHostsShareEvenly() {
        List<Host> hosts = equalHosts(2);
        Map<Host, Integer> counts = count(leastRequest(hosts, 2), PICKS);
        assertShare(counts, hosts.get(0), 0.5, PICKS, TOLERANCE);
        assertShare(counts, hosts.get(1), 0.5, PICKS, TOLERANCE);
    }

    @Test
    void followsLoadAsRequestsStartAndFinish() {
        List<Host> hosts = equalHosts(2);
        LoadBalancer lb = leastRequest(hosts, 3);
        load(hosts.get(0), 5);
        assertSame(hosts.get(1), lb.pick());
        load(hosts.get(1), 10);
        assertSame(hosts.get(0), lb.pick());
        for (int i = 0; i < 10; i++) {
            hosts.get(1).requestFinished();
        }
        assertSame(hosts.get(1), lb.pick());
    }

    @Test
    void manyHostsPreferIdleOnes() {
        // Ten hosts, five of them busy. Two distinct random choices pick a busy host only when both draws are
        // busy: 5/10 * 4/9 = 22%, so idle hosts get ~78% (uniform random would give them 50%).
        List<Host> hosts = equalHosts(10);
        for (int i = 0; i < 5; i++) {
            load(hosts.get(i), 10);
        }
        Map<Host, Integer> counts = count(leastRequest(hosts, 4), PICKS);
        int idle = 0;
        for (int i = 5; i < 10; i++) {
            int c = counts.getOrDefault(hosts.get(i), 0);
            idle += c;
            assertTrue(c > 0, "idle host " + hosts.get(i) + " never picked");
        }
        assertShare(Map.of(hosts.get(9), idle), hosts.get(9), 7 / 9.0, PICKS, TOLERANCE);
    }

    @Test
    void weightsThreeToOneWithNoLoadSplitSeventyFiveTwentyFive() {
        List<Host> hosts = hosts(3, 1);
        Map<Host, Integer> counts = count(leastRequest(hosts, 5), PICKS);
        assertShare(counts, hosts.get(0), 0.75, PICKS, TOLERANCE);
        assertShare(counts, hosts.get(1), 0.25, PICKS, TOLERANCE);
    }

    @Test
    void weightedLoadedHostGetsProportionallyLess() {
        // Weights 2:1, but the heavy host has 3 requests in flight: effective weights 2/4 and 1/1, so the
        // light host now gets two thirds.
        List<Host> hosts = hosts(2, 1);
        load(hosts.get(0), 3);
        Map<Host, Integer> counts = count(leastRequest(hosts, 6), PICKS);
        assertShare(counts, hosts.get(0), 1 / 3.0, PICKS, TOLERANCE);
        assertShare(counts, hosts.get(1), 2 / 3.0, PICKS, TOLERANCE);
    }

    @Test
    void weightedShareTracksLoadPickByPick() {
        // Each pick starts a request that never finishes, so load piles up and is read back on every pick.
        // Picks at a rate proportional to w / (active + 1) make active grow like sqrt(w * t): in-flight counts
        // settle at sqrt(3):1 (63.4% / 36.6%). Ignoring load would give 75%, ignoring weights 50%.
        List<Host> hosts = hosts(3, 1);
        LoadBalancer lb = leastRequest(hosts, 7);
        for (int i = 0; i < 4000; i++) {
            lb.pick().requestStarted();
        }
        assertEquals(4000, hosts.get(0).activeRequests() + hosts.get(1).activeRequests());
        double expected = Math.sqrt(3) / (Math.sqrt(3) + 1);
        assertShare(Map.of(hosts.get(0), hosts.get(0).activeRequests()), hosts.get(0), expected, 4000, TOLERANCE);
    }

    @Test
    void unhealthyHostsAreNeverPickedEvenWhenIdlest() {
        List<Host> hosts = equalHosts(6);
        for (Host h : hosts) {
            load(h, 5);
        }
        hosts.get(2).requestFinished();
        hosts.get(2).healthy(false); // the idlest host, but out
        hosts.get(4).healthy(false);
        Map<Host, Integer> counts = count(leastRequest(hosts, 8), PICKS);
        assertNeverPicked(counts, hosts.get(2));
        assertNeverPicked(counts, hosts.get(4));
        assertEquals(4, counts.size());
    }

    @Test
    void mostlyUnhealthyHostsStillGetTwoChoicesAmongTheHealthy() {
        // 2 healthy hosts of 50: pair draws almost always miss, so the fallback pass chooses - and still
        // compares the two healthy hosts' load.
        List<Host> hosts = equalHosts(50);
        for (int i = 0; i < 50; i++) {
            hosts.get(i).healthy(i == 10 || i == 40);
        }
        load(hosts.get(10), 4);
        LoadBalancer lb = leastRequest(hosts, 9);
        for (int i = 0; i < 2000; i++) {
            assertSame(hosts.get(40), lb.pick());
        }
        hosts.get(40).healthy(false);
        for (int i = 0; i < 100; i++) {
            assertSame(hosts.get(10), lb.pick());
        }
    }
}
