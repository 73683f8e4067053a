package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.core.upstream.Cluster;
import io.meshproxy.core.upstream.Host;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference documents' resilience YAML, verbatim, behaving as Istio documents with real upstreams: the
 * payment-service DestinationRule (connection pool, outlier detection: 3 consecutive 5xx, 30 s ejections, at
 * most 50% ejected) with the high-performance-service VirtualService (timeout 30s, retries attempts 3), and the
 * chaos-testing VirtualService's aborts.
 */
class ReferenceResilienceTest {
    static final String HOST = "payment-service:8080";

    /** The payment-service ServiceEntry: one 'stable' endpoint per upstream, and an unused 'canary' one. */
    static String paymentEntry(TestUpstream... upstreams) {
        StringBuilder sb = new StringBuilder("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: payment-service}
                spec:
                  hosts: [payment-service.default.svc.cluster.local]
                  ports: [{number: 8080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints:
                """);
        for (TestUpstream u : upstreams) {
            sb.append("  - {address: 127.0.0.1, ports: {http: ").append(u.port()).append("}, labels: {version: stable}}\n");
        }
        // the DestinationRule's canary subset must select something; no request here carries 'canary: true'
        sb.append("  - {address: 127.0.0.2, ports: {http: 9}, labels: {version: canary}}\n");
        return sb.toString();
    }

    static MeshProxy paymentProxy(Path dir, TestUpstream... upstreams) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), ReferenceDocumentsTest.PROXY);
        Files.writeString(dir.resolve("payment-service-entry.yaml"), paymentEntry(upstreams));
        ReferenceDocumentsTest.copy("payment-service-dr.yaml", dir);
        ReferenceDocumentsTest.copy("high-performance-service-vs.yaml", dir);
        return MeshProxy.builder().config(ConfigLoader.load(List.of(dir), FieldValidation.WARN).config())
                .build().start();
    }

    static Cluster stable(MeshProxy proxy) {
        return proxy.clusters().get("outbound|8080|stable|payment-service.default.svc.cluster.local");
    }

    static Host host(Cluster c, TestUpstream u) {
        return c.hosts().stream().filter(h -> h.port() == u.port()).findFirst().orElseThrow();
    }

    static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n";
    }

    @Test
    void oneEndpointAlways503IsRetriedAroundAndEjectedAfterThreeConsecutiveErrors(@TempDir Path dir) throws Exception {
        try (TestUpstream a = TestUpstream.start("a"); TestUpstream b = TestUpstream.start("b");
             TestUpstream bad = TestUpstream.start("bad").answerEverythingWith(503);
             MeshProxy proxy = paymentProxy(dir, a, bad, b);
             RawHttp c = new RawHttp(proxy.listenerPort("outbound"))) {
            int ok = 0;
            for (int i = 0; i < 5000; i++) {
                if (c.send(get("/pay/" + i)).read().status() == 200) {
                    ok++;
                }
            }
            assertTrue(ok >= 4995, "at least 99.9% succeed: " + ok);
            Cluster stable = stable(proxy);
            assertEquals(3, bad.requestsReceived(),
                    "ejected after 3 consecutive 503s, and nothing more within the 30 s baseEjectionTime");
            assertTrue(host(stable, bad).failedOutlierCheck());
            assertEquals(1, stable.stats().snapshot().get("outlier_detection.ejections_enforced_total"));
            assertEquals(5000, a.requestsReceived() + b.requestsReceived());
        }
    }

    @Test
    void withTwoBadEndpointsMaxEjectionPercentKeepsOneInRotation(@TempDir Path dir) throws Exception {
        try (TestUpstream good = TestUpstream.start("good");
             TestUpstream bad1 = TestUpstream.start("bad1").answerEverythingWith(503);
             TestUpstream bad2 = TestUpstream.start("bad2").answerEverythingWith(503);
             MeshProxy proxy = paymentProxy(dir, bad1, good, bad2);
             RawHttp c = new RawHttp(proxy.listenerPort("outbound"))) {
            for (int i = 0; i < 600; i++) {
                assertEquals(200, c.send(get("/pay/" + i)).read().status(), "retries reach the good endpoint");
            }
            Cluster stable = stable(proxy);
            int ejected = (host(stable, bad1).failedOutlierCheck() ? 1 : 0) + (host(stable, bad2).failedOutlierCheck() ? 1 : 0);
            assertEquals(1, ejected, "two of three ejected would be 67% > maxEjectionPercent 50");
            assertTrue(stable.stats().snapshot().get("outlier_detection.ejections_overflow") > 0);
            TestUpstream stillIn = host(stable, bad1).failedOutlierCheck() ? bad2 : bad1;
            assertTrue(stillIn.requestsReceived() > 100, "the bad endpoint not ejected keeps its share of picks");
        }
    }

    @Test
    void anEndpointStoppedMidTestIsRetriedAroundAndOnlyInFlightRequestsMayFail(@TempDir Path dir) throws Exception {
        int clients = 4;
        int perClient = 400;
        TestUpstream a = TestUpstream.start("a");
        TestUpstream b = TestUpstream.start("b");
        TestUpstream victim = TestUpstream.start("victim");
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try (MeshProxy proxy = paymentProxy(dir, a, victim, b)) {
            AtomicInteger done = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                futures.add(pool.submit(() -> {
                    // A request written to the server just as it stops may get neither an answer nor a close (the
                    // test server can leave a just-accepted socket open): the VirtualService's 30 s timeout ends it.
                    try (RawHttp c = new RawHttp(proxy.listenerPort("outbound"), 40_000)) {
                        for (int i = 0; i < perClient; i++) {
                            if (c.send(get("/pay")).read().status() != 200) {
                                failed.incrementAndGet();
                            }
                            if (done.incrementAndGet() == clients * perClient / 4) {
                                victim.close();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            assertTrue(failed.get() <= clients, "at most the requests in flight on its connections: " + failed.get());
            assertTrue(host(stable(proxy), victim).failedOutlierCheck(),
                    "its connect failures count as errors (unsplit) and eject it");
        } finally {
            pool.shutdownNow();
            a.close();
            b.close();
            victim.close();
        }
    }

    @Test
    void theChaosTestingAbortLandsWithinBinomialBounds(@TempDir Path dir) throws Exception {
        try (TestUpstream order = TestUpstream.start("order")) {
            Files.writeString(dir.resolve("proxy.yaml"), ReferenceDocumentsTest.PROXY);
            Files.writeString(dir.resolve("order-service-entry.yaml"), ReferenceDocumentsTest.ORDER_ENTRY
                    .replace("18081", Integer.toString(order.port())));
            ReferenceDocumentsTest.copy("chaos-testing-vs.yaml", dir);
            try (MeshProxy proxy = MeshProxy.builder().config(ConfigLoader.load(dir).config()).build().start();
                 RawHttp c = new RawHttp(proxy.listenerPort("outbound"))) {
                int n = 2000;
                int aborted = 0;
                for (int i = 0; i < n; i++) {
                    RawHttp.Response r = c.send("GET /orders HTTP/1.1\r\nHost: order-service\r\nchaos-test: abort\r\n\r\n")
                            .read();
                    if (r.status() == 503) {
                        assertEquals("fault filter abort", r.text());
                        aborted++;
                    } else {
                        assertEquals(200, r.status());
                    }
                }
                double mean = n * 0.05;
                double sigma = Math.sqrt(n * 0.05 * 0.95);
                assertTrue(Math.abs(aborted - mean) <= 4.5 * sigma,
                        "5% of 2000 aborted, within 4.5 sigma: " + aborted);
                assertEquals(n - aborted, order.requestsReceived(), "an aborted request never reaches the upstream");
            }
        }
    }
}
