package io.meshproxy.core.internal.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.HealthCheck;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.resilience.Outcome;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.HealthzUpstream;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.core.upstream.Cluster;
import io.meshproxy.core.upstream.Host;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code /clusters} shows what outlier detection and active health checking did to each endpoint (Envoy's
 * health flags, ejection time left) and the cluster's thresholds, resources in use, breaker state and stats.
 */
class ClustersEndpointTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String get(MeshProxy proxy, String path) throws Exception {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + proxy.adminPort() + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static List<String> lines(String body) {
        return body.lines().collect(Collectors.toList());
    }

    /** The value of the single line starting with {@code prefix}. */
    private static Optional<String> value(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length())).findFirst();
    }

    private static Host host(Cluster c, int port) {
        return c.hosts().stream().filter(h -> h.port() == port).findFirst().orElseThrow();
    }

    @Test
    void showsEjectedAndFailedHealthCheckHostsWithFlagsAndRemainingTime() throws Exception {
        try (TestUpstream good = TestUpstream.start("good");
             TestUpstream outlier = TestUpstream.start("outlier");
             HealthzUpstream sick = HealthzUpstream.start("sick")) {
            sick.healthzStatus(500);
            ClusterConfig cluster = ClusterConfig.builder().name("backend")
                    .endpoint("127.0.0.1", good.port()).endpoint("127.0.0.1", outlier.port())
                    .endpoint("127.0.0.1", sick.port())
                    .outlierDetection(OutlierDetection.builder().consecutive5xxErrors(3)
                            .baseEjectionTime(Duration.ofSeconds(30)).maxEjectionPercent(100).minHealthPercent(0)
                            .build())
                    .healthCheck(new HealthCheck("/healthz", null, Duration.ofMillis(100), Duration.ofSeconds(1), 1, 2))
                    .build();
            ProxyConfig config = ProxyConfig.builder()
                    .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("backend")).build())
                    .cluster(cluster).admin(new AdminConfig("127.0.0.1", 0)).build();
            try (MeshProxy proxy = MeshProxy.builder().config(config).eventLoopThreads(1).build().start()) {
                Cluster c = proxy.clusters().get("backend");
                await().atMost(Duration.ofSeconds(10)).until(() -> host(c, sick.port()).failedActiveHealthCheck());
                // Passive: what the router reports once it is wired; here the outcomes are given directly.
                for (int i = 0; i < 3; i++) {
                    c.recordOutcome(host(c, outlier.port()), Outcome.ERROR_5XX, 0);
                }

                List<String> text = lines(get(proxy, "/clusters"));
                String g = "backend::127.0.0.1:" + good.port() + "::";
                String o = "backend::127.0.0.1:" + outlier.port() + "::";
                String s = "backend::127.0.0.1:" + sick.port() + "::";
                assertTrue(text.contains(g + "health_flags::healthy"), text.toString());
                assertTrue(text.contains(g + "ejected_remaining_ms::0"), text.toString());
                assertTrue(text.contains(o + "health_flags::/failed_outlier_check"), text.toString());
                long remaining = Long.parseLong(value(text, o + "ejected_remaining_ms::").orElseThrow());
                assertTrue(remaining > 0 && remaining <= 30_000, "remaining " + remaining);
                assertTrue(text.contains(s + "health_flags::/failed_active_hc"), text.toString());
                assertTrue(text.contains(s + "ejected_remaining_ms::0"), text.toString());
                assertTrue(text.contains(s + "rq_active::0") && text.contains(s + "cx_active::0"), text.toString());

                assertTrue(text.contains("backend::breaker_state::DISABLED"), text.toString());
                assertTrue(text.contains("backend::healthy_panic_threshold::0"), text.toString());
                assertTrue(text.contains("backend::outlier_detection.ejections_enforced_total::1"), text.toString());
                assertTrue(text.contains("backend::outlier_detection.ejections_active::1"), text.toString());
                assertTrue(text.contains("backend::default_priority::max_connections::"
                        + cluster.circuitBreakers().maxConnections()), text.toString());
                assertTrue(text.contains("backend::upstream_rq_active::0"), text.toString());
                assertTrue(value(text, "backend::health_check.failure::").map(Long::parseLong).orElse(0L) >= 2,
                        text.toString());

                // Both flags at once: the sick host is ejected too.
                for (int i = 0; i < 3; i++) {
                    c.recordOutcome(host(c, sick.port()), Outcome.CONNECT_FAILURE, 0);
                }
                JsonNode json = JSON.readTree(get(proxy, "/clusters?format=json"));
                JsonNode cj = json.path("cluster_statuses").path(0);
                assertEquals("DISABLED", cj.path("breaker_state").asText());
                assertEquals(2, cj.path("stats").path("outlier_detection.ejections_enforced_total").asLong());
                assertTrue(cj.path("resources").has("upstream_cx_active"), cj.toString());
                assertEquals(cluster.circuitBreakers().maxRequests(),
                        cj.path("circuit_breakers").path("max_requests").asInt());
                for (JsonNode h : cj.path("host_statuses")) {
                    String address = h.path("address").asText();
                    if (address.endsWith(":" + sick.port())) {
                        assertEquals("/failed_active_hc/failed_outlier_check", h.path("health_flags").asText());
                        assertTrue(h.path("failed_active_hc").asBoolean() && h.path("failed_outlier_check").asBoolean());
                        assertTrue(h.path("ejected_remaining_ms").asLong() > 0, h.toString());
                        assertFalse(h.path("healthy").asBoolean());
                    } else if (address.endsWith(":" + good.port())) {
                        assertEquals("healthy", h.path("health_flags").asText());
                        assertTrue(h.path("healthy").asBoolean());
                        assertEquals(0, h.path("ejected_remaining_ms").asLong());
                    }
                }
            }
        }
    }
}
