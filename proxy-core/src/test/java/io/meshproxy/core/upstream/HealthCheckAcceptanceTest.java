package io.meshproxy.core.upstream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.HealthCheck;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.HealthzUpstream;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.Tally;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Active health checks and panic mode end to end: real upstreams whose {@code /healthz} can fail, a real
 * listener, the JDK HttpClient; where a request landed is read from {@code x-upstream}.
 */
class HealthCheckAcceptanceTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    /** Two failures in a row make a host unhealthy, two successes healthy again; checks every 100 ms. */
    private static final HealthCheck CHECK = new HealthCheck("/healthz", null, Duration.ofMillis(100),
            Duration.ofSeconds(1), 2, 2);

    private final List<HealthzUpstream> upstreams = new ArrayList<>();
    private final RequestLogs logs = new RequestLogs();
    private MeshProxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        upstreams.forEach(HealthzUpstream::close);
    }

    private List<HealthzUpstream> upstreams(String... names) throws Exception {
        for (String n : names) {
            upstreams.add(HealthzUpstream.start(n));
        }
        return upstreams;
    }

    private MeshProxy proxy(UnaryOperator<ClusterConfig.Builder> cluster) {
        ClusterConfig.Builder b = ClusterConfig.builder().name("backend").healthCheck(CHECK);
        for (HealthzUpstream u : upstreams) {
            b.endpoint("127.0.0.1", u.port());
        }
        ProxyConfig config = ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("backend")).build())
                .cluster(cluster.apply(b).build())
                .build();
        proxy = MeshProxy.builder().config(config).requestLogListener(logs).eventLoopThreads(2).build().start();
        return proxy;
    }

    private Cluster cluster() {
        return proxy.clusters().get("backend");
    }

    private Host host(HealthzUpstream u) {
        return cluster().hosts().stream().filter(h -> h.port() == u.port()).findFirst().orElseThrow();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code n} requests one after another, all expected to be answered 200; where they landed. */
    private Tally traffic(int n) throws Exception {
        Tally t = new Tally();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = get("/work");
            assertEquals(200, r.statusCode(), r::body);
            t.add(r.headers().firstValue("x-upstream").orElseThrow());
        }
        return t;
    }

    @Test
    void hostFailingItsHealthCheckLeavesRotationAndReturnsWhenItRecovers() throws Exception {
        List<HealthzUpstream> ups = upstreams("a", "b", "c");
        HealthzUpstream b = ups.get(1);
        proxy(c -> c);
        await().atMost(Duration.ofSeconds(10)).until(() -> ups.stream().allMatch(u -> u.healthChecks() >= 2));
        assertTrue(host(b).healthy(), "hosts start healthy and stay so while answering 200");

        b.healthzStatus(500);
        await().atMost(Duration.ofSeconds(10)).until(() -> host(b).failedActiveHealthCheck());
        assertTrue(b.failedHealthChecks() >= CHECK.unhealthyThreshold(),
                "unhealthy only after " + CHECK.unhealthyThreshold() + " failed checks: " + b.failedHealthChecks());
        assertEquals("/failed_active_hc", host(b).healthFlags());
        Tally out = traffic(60);
        assertEquals(0, out.count("b"), "no traffic while b fails its checks: " + out);
        assertTrue(out.count("a") > 0 && out.count("c") > 0, out.toString());

        b.healthzStatus(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> host(b).healthy());
        Tally back = traffic(60);
        assertTrue(back.count("b") > 0, "b takes traffic again: " + back);
        assertTrue(cluster().stats().healthCheckFailure.sum() >= 2);
        assertTrue(cluster().stats().healthCheckSuccess.sum() > 0);
    }

    @Test
    void stoppedServerIsMarkedUnhealthyAndTrafficGoesToTheOthers() throws Exception {
        List<HealthzUpstream> ups = upstreams("a", "b", "c");
        proxy(c -> c);
        HealthzUpstream c = ups.get(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.healthChecks() >= 1);
        c.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> host(c).failedActiveHealthCheck());
        Tally t = traffic(60);
        assertEquals(0, t.count("c"), t.toString());
        assertTrue(host(ups.get(0)).healthy() && host(ups.get(1)).healthy());
    }

    @Test
    void belowMinHealthPercentTheBalancerPanicsAndSpreadsOverAllHosts() throws Exception {
        List<HealthzUpstream> ups = upstreams("a", "b", "c");
        ups.get(0).healthzStatus(500);
        ups.get(1).healthzStatus(500);
        proxy(c -> c.outlierDetection(OutlierDetection.builder().minHealthPercent(50).build()));
        await().atMost(Duration.ofSeconds(10)).until(() -> host(ups.get(0)).failedActiveHealthCheck()
                && host(ups.get(1)).failedActiveHealthCheck());
        // 1 of 3 healthy: 33% < 50%, so health is ignored.
        Tally t = traffic(90);
        for (String n : new String[] {"a", "b", "c"}) {
            assertTrue(t.count(n) > 0, n + " starved in panic: " + t);
        }
        assertTrue(cluster().stats().lbHealthyPanic.sum() >= 90);
    }

    @Test
    void withPanicDisabledNoHealthyHostMeans503UH() throws Exception {
        List<HealthzUpstream> ups = upstreams("a", "b");
        ups.forEach(u -> u.healthzStatus(503));
        proxy(c -> c.outlierDetection(OutlierDetection.builder().minHealthPercent(0).build()));
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster().hosts().stream().noneMatch(Host::healthy));
        HttpResponse<String> r = get("/uh");
        assertEquals(503, r.statusCode());
        RequestLog log = logs.awaitPath("/uh");
        assertEquals("UH", log.responseFlags());
        assertEquals(0, ups.get(0).requestsReceived() + ups.get(1).requestsReceived());
    }

    @Test
    void withoutOutlierDetectionEnvoysDefaultPanicThresholdKeepsTrafficFlowing() throws Exception {
        List<HealthzUpstream> ups = upstreams("a", "b");
        ups.forEach(u -> u.healthzStatus(500));
        proxy(c -> c);
        assertEquals(Cluster.DEFAULT_PANIC_THRESHOLD, cluster().panicThreshold());
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster().hosts().stream().noneMatch(Host::healthy));
        Tally t = traffic(40);
        assertTrue(t.count("a") > 0 && t.count("b") > 0, t.toString());
    }

    @Test
    void aRetiredClusterStopsCheckingAndItsReplacementChecks() throws Exception {
        List<HealthzUpstream> ups = upstreams("a");
        HealthzUpstream a = ups.get(0);
        proxy(c -> c);
        Cluster old = cluster();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.healthChecks() >= 2);

        // Same endpoints, no health check: the old cluster is retired and nobody checks any more.
        ProxyConfig unchecked = ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("backend")).build())
                .cluster(ClusterConfig.builder().name("backend").endpoint("127.0.0.1", a.port()).build())
                .build();
        proxy.update(unchecked, "2");
        assertFalse(cluster() == old);
        int[] last = {a.healthChecks()};
        await().pollInterval(Duration.ofMillis(50)).during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5))
                .until(() -> {
                    int now = a.healthChecks();
                    boolean unchanged = now == last[0];
                    last[0] = now;
                    return unchanged;
                });

        // Checked again by the next cluster, which starts when its configuration goes into force.
        ProxyConfig checked = ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("backend")).build())
                .cluster(ClusterConfig.builder().name("backend").endpoint("127.0.0.1", a.port()).healthCheck(CHECK)
                        .build())
                .build();
        int before = a.healthChecks();
        proxy.update(checked, "3");
        await().atMost(Duration.ofSeconds(10)).until(() -> a.healthChecks() >= before + 2);
    }
}
