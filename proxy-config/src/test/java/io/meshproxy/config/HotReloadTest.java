package io.meshproxy.config;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot reload under continuous load: a valid change (90/10 to 0/100) takes effect with no failed request and no
 * dropped connection; an invalid change is rejected with its errors and traffic keeps flowing on the config in
 * force; {@code /config_dump} shows the version in force.
 */
class HotReloadTest {
    static final String PROXY = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: sidecar}
            spec:
              admin: {port: 0}
              listeners:
              - {name: outbound, port: 0, direction: OUTBOUND}
            """;

    static String reviews(int v1Port, int v2Port, int w1, int w2) {
        return """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: reviews}
                spec:
                  hosts: [reviews.default.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints:
                  - {address: 127.0.0.1, ports: {http: %d}, labels: {version: v1}}
                  - {address: 127.0.0.1, ports: {http: %d}, labels: {version: v2}}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: reviews}
                spec:
                  host: reviews
                  subsets:
                  - {name: v1, labels: {version: v1}}
                  - {name: v2, labels: {version: v2}}
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: reviews}
                spec:
                  hosts: [reviews]
                  http:
                  - route:
                    - {destination: {host: reviews, subset: v1}, weight: %d}
                    - {destination: {host: reviews, subset: v2}, weight: %d}
                """.formatted(v1Port, v2Port, w1, w2);
    }

    /** Replaces {@code file} atomically, as Kubernetes and careful editors do. */
    static void writeAtomically(Path file, String text) throws Exception {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void validChangeAppliesWithoutAFailedRequestAndAnInvalidOneIsRejected(@TempDir Path dir) throws Exception {
        try (TestUpstream v1 = TestUpstream.start("v1"); TestUpstream v2 = TestUpstream.start("v2")) {
            Files.writeString(dir.resolve("proxy.yaml"), PROXY);
            Path routes = dir.resolve("reviews.yaml");
            Files.writeString(routes, reviews(v1.port(), v2.port(), 90, 10));
            LoadedConfig first = ConfigLoader.load(dir);
            MeshProxy proxy = MeshProxy.builder().config(first.config()).version(first.version()).build().start();
            assertEquals(first.version(), proxy.versionInfo());
            ConfigWatcher watcher = ConfigWatcher.start(List.of(dir), first.version(),
                    c -> proxy.update(c.config(), c.version()));
            int port = proxy.listenerPort("outbound");

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong ok = new AtomicLong();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            // Which upstream served each request, with the version in force when it was sent.
            AtomicReference<String> phase = new AtomicReference<>("before");
            AtomicInteger v1AfterChange = new AtomicInteger();
            AtomicInteger servedAfterChange = new AtomicInteger();
            List<Thread> clients = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread client = new Thread(() -> {
                    try (RawHttp c = new RawHttp(port)) { // one keep-alive connection each, for the whole test
                        while (running.get()) {
                            String p = phase.get();
                            RawHttp.Response r = c.send("GET /reviews HTTP/1.1\r\nHost: reviews\r\n\r\n").read();
                            if (r.status() != 200) {
                                failures.add(r.status() + " " + r.text());
                            } else {
                                ok.incrementAndGet();
                                if (p.equals("after")) {
                                    servedAfterChange.incrementAndGet();
                                    if ("v1".equals(r.headers().get("x-upstream"))) {
                                        v1AfterChange.incrementAndGet();
                                    }
                                }
                            }
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }, "load-" + t);
                client.start();
                clients.add(client);
            }
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() > 500);
                int v1Connections = v1.connectionsAccepted();
                var clustersBefore = proxy.clusters();

                // A valid change: all traffic to v2.
                writeAtomically(routes, reviews(v1.port(), v2.port(), 0, 100));
                await().atMost(Duration.ofSeconds(20)).until(() -> watcher.appliedCount() == 1);
                String applied = watcher.appliedVersion();
                assertEquals(applied, proxy.versionInfo());
                phase.set("after");
                long okAtChange = ok.get();
                await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() > okAtChange + 500);
                assertEquals(0, v1AfterChange.get(), "requests sent after the swap go to v2 only");

                // An invalid change: rejected with its place, the old config keeps serving.
                writeAtomically(routes, reviews(v1.port(), v2.port(), 50, 40));
                await().atMost(Duration.ofSeconds(20)).until(() -> watcher.rejectedCount() == 1);
                assertEquals(List.of(routes + ":27:5: the weights of the destinations add up to 90, not 100"),
                        watcher.lastErrors().stream().map(ConfigError::toString).toList());
                assertEquals(applied, proxy.versionInfo());
                long okAtReject = ok.get();
                await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() > okAtReject + 500);
                assertEquals(0, v1AfterChange.get(), "the rejected 50/40 never took effect");

                // Only the routes changed: every cluster carried over, with its pools (no v1 connection opened anew).
                assertEquals(clustersBefore.keySet(), proxy.clusters().keySet());
                clustersBefore.forEach((name, cluster) -> assertTrue(proxy.clusters().get(name) == cluster, name));
                assertEquals(v1Connections, v1.connectionsAccepted());

                try (RawHttp admin = new RawHttp(proxy.adminPort())) {
                    String dump = admin.send("GET /config_dump HTTP/1.1\r\nHost: admin\r\n\r\n").read().text();
                    assertTrue(dump.contains("\"version_info\":\"" + applied + "\""), dump);
                    assertTrue(dump.contains("\"weight\":100"), dump);
                }
            } finally {
                running.set(false);
                for (Thread c : clients) {
                    c.join(10_000);
                }
                watcher.close();
                proxy.close();
            }
            assertTrue(failures.isEmpty(), "failed requests: " + failures);
            assertTrue(servedAfterChange.get() > 1000, "traffic flowed throughout: " + servedAfterChange);
        }
    }
}
