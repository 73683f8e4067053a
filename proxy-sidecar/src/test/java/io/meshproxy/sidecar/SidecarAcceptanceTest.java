package io.meshproxy.sidecar;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user of {@code meshproxy run -c} relies on, end to end over real sockets: the VirtualService's weights
 * hold, and editing the files under load swaps routing without failing a request or dropping a connection.
 */
class SidecarAcceptanceTest {
    private static TestUpstream v1;
    private static TestUpstream v2;

    @BeforeAll
    static void upstreams() throws Exception {
        v1 = TestUpstream.start("v1");
        v2 = TestUpstream.start("v2");
    }

    @AfterAll
    static void stopUpstreams() {
        v1.close();
        v2.close();
    }

    static final String CANARY_THEN_90_10 = """
              - match: [{headers: {canary: {exact: "true"}}}]
                route: [{destination: {host: reviews, subset: v2}}]
              - route:
                - {destination: {host: reviews, subset: v1}, weight: 90}
                - {destination: {host: reviews, subset: v2}, weight: 10}
            """;

    private static String allTo(String subset) {
        return "  - route: [{destination: {host: reviews, subset: " + subset + "}}]\n";
    }

    private static Sidecar start(Path dir, String route) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), SidecarTest.PROXY.formatted(v1.port()));
        Files.writeString(dir.resolve("reviews.yaml"), SidecarTest.reviews(v1.port(), v2.port(), route));
        return Sidecar.start(List.of(dir), 2);
    }

    @Test
    void canarySplitHoldsWithinThreePointsOver2000Requests(@TempDir Path dir) throws Exception {
        Sidecar sidecar = start(dir, CANARY_THEN_90_10);
        try {
            int port = sidecar.mesh().listenerPort("outbound");
            Map<String, Integer> split = new TreeMap<>();
            Map<String, Integer> canary = new TreeMap<>();
            try (RawHttp http = new RawHttp(port)) { // one keep-alive connection, as a client pool would reuse
                for (int i = 0; i < 2000; i++) {
                    split.merge(upstream(http.send(get(i, "")).read()), 1, Integer::sum);
                }
                for (int i = 0; i < 200; i++) {
                    canary.merge(upstream(http.send(get(i, "canary: true\r\n")).read()), 1, Integer::sum);
                }
            }
            assertEquals(2000, split.getOrDefault("v1", 0) + split.getOrDefault("v2", 0), split.toString());
            double v2Percent = 100.0 * split.getOrDefault("v2", 0) / 2000;
            // Binomial(2000, 0.1): one standard deviation is 0.67 points; 3 points is 4.5 of them.
            assertTrue(Math.abs(v2Percent - 10) <= 3, "v2 share " + v2Percent + "% of " + split);
            assertEquals(Map.of("v2", 200), canary);
        } finally {
            sidecar.close();
        }
    }

    /**
     * One response seen by a load thread: the phase before it was sent and after it was answered, and who
     * served it. Phase 2i: configuration i in force and no change under way; 2i+1: changing to i+1.
     */
    private record Seen(int sentIn, int answeredIn, int status, String upstream) {
        /** The configuration that certainly routed it: no change began or ended while it was in flight. */
        int stableEpoch() {
            return sentIn == answeredIn && sentIn % 2 == 0 ? sentIn / 2 : -1;
        }
    }

    @Test
    void editingTheFilesUnderLoadSwapsRoutingWithoutFailingARequest(@TempDir Path dir) throws Exception {
        Sidecar sidecar = start(dir, allTo("v1"));
        int port = sidecar.mesh().listenerPort("outbound");
        String[] target = {"v1", "v2", "v1", "v2", "v1", "v2"}; // configuration i routes everything to target[i]
        AtomicInteger phase = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Queue<Seen> seen = new ConcurrentLinkedQueue<>();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        int threads = 4;
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            Thread load = new Thread(() -> {
                // One connection per thread for the whole run: a reload must not close it.
                try (RawHttp http = new RawHttp(port)) {
                    for (int i = 0; !stop.get(); i++) {
                        int sentIn = phase.get();
                        RawHttp.Response r = http.send(get(i, "")).read();
                        seen.add(new Seen(sentIn, phase.get(), r.status(), r.headers().get("x-upstream")));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    done.countDown();
                }
            }, "load-" + t);
            load.setDaemon(true);
            load.start();
        }
        try {
            for (int i = 1; i < target.length; i++) {
                int before = i - 1;
                await().atMost(Duration.ofSeconds(10)).until(() -> !failures.isEmpty()
                        || seen.stream().filter(s -> s.stableEpoch() == before).count() >= 100);
                assertTrue(failures.isEmpty(), failures.toString());
                phase.set(2 * i - 1);
                SidecarTest.writeAtomically(dir.resolve("reviews.yaml"),
                        SidecarTest.reviews(v1.port(), v2.port(), allTo(target[i])));
                int applied = i;
                await().atMost(Duration.ofSeconds(10)).until(() -> sidecar.watcher().appliedCount() == applied);
                phase.set(2 * i); // every request sent from now on must see the new routes
            }
            int last = target.length - 1;
            await().atMost(Duration.ofSeconds(10)).until(() -> !failures.isEmpty()
                    || seen.stream().filter(s -> s.stableEpoch() == last).count() >= 100);
        } finally {
            stop.set(true);
            done.await();
            sidecar.close();
        }
        assertTrue(failures.isEmpty(), "a request failed or a connection was dropped: " + failures);
        assertEquals(0, sidecar.watcher().rejectedCount());
        for (Seen s : seen) {
            assertEquals(200, s.status(), s.toString());
            if (s.stableEpoch() >= 0) {
                assertEquals(target[s.stableEpoch()], s.upstream(), "routed by the configuration in force: " + s);
            }
        }
        assertTrue(seen.size() >= 100 * target.length, "load kept flowing: " + seen.size());
    }

    private static String get(int i, String extraHeaders) {
        return "GET /reviews/" + i + " HTTP/1.1\r\nHost: reviews\r\n" + extraHeaders + "\r\n";
    }

    private static String upstream(RawHttp.Response r) {
        assertEquals(200, r.status(), r.text());
        return r.headers().get("x-upstream");
    }
}
