package io.meshproxy.telemetry.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.FailureRateBreaker;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.TelemetryConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Envoy's cluster statistics read at scrape time, and Istio's TCP metrics of downstream connections. */
class ClusterAndConnectionStatsTest {
    static final RetryPolicy TWO_RETRIES = RetryPolicy.builder().numRetries(2).retryOn(RetryOn.FIVE_XX)
            .baseInterval(Duration.ofMillis(1)).maxInterval(Duration.ofMillis(2)).build();

    /** /flaky, /tight (no retry allowed by its breaker thresholds), /guarded (failure-rate breaker): all to a 503 upstream. */
    static ProxyConfig config(TestUpstream failing, boolean withTight) {
        VirtualHost.Builder vh = VirtualHost.builder().name("all").domain("*")
                .route(route("/flaky", "flaky"))
                .route(route("/guarded", "guarded"));
        ProxyConfig.Builder b = ProxyConfig.builder()
                .cluster(cluster("flaky", failing).build())
                .cluster(cluster("guarded", failing).failureRateBreaker(FailureRateBreaker.builder()
                        .slidingWindowSize(2).minimumNumberOfCalls(2).failureRateThreshold(50)
                        .waitInOpenState(Duration.ofMinutes(10)).build()).build())
                .admin(new AdminConfig("127.0.0.1", 0));
        if (withTight) {
            vh.route(route("/tight", "tight"));
            b.cluster(cluster("tight", failing).circuitBreakers(CircuitBreakers.DEFAULT.withMaxRetries(0)).build());
        }
        return b.listener(ListenerConfig.builder().name("in").port(0)
                .routes(RouteConfiguration.builder().name("routes").virtualHost(vh.build()).build()).build()).build();
    }

    static Route route(String prefix, String cluster) {
        return Route.builder().name(cluster).match(RouteMatch.builder().pathPrefix(prefix).build())
                .action(RouteAction.builder().cluster(cluster).retryPolicy(TWO_RETRIES).build()).build();
    }

    static ClusterConfig.Builder cluster(String name, TestUpstream u) {
        return ClusterConfig.builder().name(name).protocol(UpstreamProtocol.HTTP1).endpoint("127.0.0.1", u.port());
    }

    static double stat(PromText p, String name, String cluster) {
        return p.sum(name, s -> cluster.equals(s.label("cluster_name")));
    }

    @Test
    void clusterStatsCarryTheClusterNameAndFollowRetriesOverflowsAndConfigUpdates() throws Exception {
        try (TestUpstream failing = TestUpstream.start("failing").answerEverythingWith(503);
             MetricsFixture f = new MetricsFixture(config(failing, true), new TelemetryConfig(null, null, null, null, null))) {
            PromText before = f.scrape();
            assertEquals(0, stat(before, "envoy_cluster_upstream_rq_total", "flaky"));
            assertEquals("counter", before.types.get("envoy_cluster_upstream_rq_total"));
            assertEquals("gauge", before.types.get("envoy_cluster_upstream_cx_active"));
            assertEquals(0, stat(before, "meshproxy_cluster_circuit_breaker_state", "guarded"), "closed");
            assertFalse(before.named("meshproxy_cluster_circuit_breaker_state").stream()
                    .anyMatch(s -> "flaky".equals(s.label("cluster_name"))), "no breaker, no state");

            try (RawHttp c = new RawHttp(f.proxy.listenerPort("in"))) {
                for (int i = 0; i < 3; i++) {
                    assertEquals(503, c.send("GET /flaky/" + i + " HTTP/1.1\r\nHost: a\r\n\r\n").read().status());
                    assertEquals(503, c.send("GET /tight/" + i + " HTTP/1.1\r\nHost: a\r\n\r\n").read().status());
                }
                for (int i = 0; i < 4; i++) {
                    assertEquals(503, c.send("GET /guarded/" + i + " HTTP/1.1\r\nHost: a\r\n\r\n").read().status());
                }
            }
            PromText p = f.scrape();
            assertEquals(9, stat(p, "envoy_cluster_upstream_rq_total", "flaky"), "3 requests, 2 retries each");
            assertEquals(6, stat(p, "envoy_cluster_upstream_rq_retry", "flaky"));
            assertEquals(3, stat(p, "envoy_cluster_upstream_rq_retry_limit_exceeded", "flaky"));
            assertEquals(3, stat(p, "envoy_cluster_upstream_rq_total", "tight"), "no retry allowed");
            assertEquals(3, stat(p, "envoy_cluster_upstream_rq_retry_overflow", "tight"));
            assertEquals(0, stat(p, "envoy_cluster_upstream_rq_retry", "tight"));
            assertTrue(stat(p, "envoy_cluster_upstream_cx_total", "flaky") >= 1);
            assertEquals(1, stat(p, "envoy_cluster_membership_total", "flaky"));
            assertEquals(0, stat(p, "envoy_cluster_upstream_rq_pending_overflow", "flaky"));
            assertEquals(1, stat(p, "meshproxy_cluster_circuit_breaker_state", "guarded"), "open after failures");
            assertTrue(p.has("envoy_cluster_outlier_detection_ejections_enforced_total"));
            // the same requests in Istio's metrics, by destination service; a request is recorded when it ends,
            // which can be just after its response reached the client
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(
                    Map.of("flaky", 3.0, "guarded", 4.0, "tight", 3.0),
                    f.scrape().sumBy("istio_requests_total", s -> s.label("destination_service_name"))));

            String stats = f.admin("/stats").body();
            assertTrue(stats.contains("cluster.flaky.upstream_rq_retry: 6\n"), stats);
            assertTrue(stats.contains("cluster.tight.upstream_rq_retry_overflow: 3\n"), stats);
            assertTrue(f.admin("/stats?filter=upstream_rq_retry_overflow").body().lines()
                    .allMatch(l -> l.contains("upstream_rq_retry_overflow")));

            // a configuration update removes "tight": its stats leave the next scrape, the others stay
            f.proxy.update(config(failing, false), "v2");
            PromText after = f.scrape();
            assertFalse(after.samples.stream().anyMatch(s -> "tight".equals(s.label("cluster_name"))));
            assertEquals(9, stat(after, "envoy_cluster_upstream_rq_total", "flaky"), "unchanged cluster carried over");
        }
    }

    @Test
    void downstreamConnectionsAreCountedOpenedAndClosedWithTheirBytes() throws Exception {
        try (TestUpstream reviews = TestUpstream.start("reviews");
             MetricsFixture f = new MetricsFixture(IstioMetricsTest.config(reviews), IstioMetricsTest.telemetry(null))) {
            int n = 5;
            for (int i = 0; i < n; i++) {
                try (RawHttp c = new RawHttp(f.proxy.listenerPort("in"))) {
                    assertEquals(200, c.send("GET /p HTTP/1.1\r\nHost: reviews\r\n\r\n").read().status());
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> f.scrape().sum("istio_tcp_connections_closed_total") == n);
            PromText p = f.scrape();
            assertEquals(n, p.sum("istio_tcp_connections_opened_total"));
            assertTrue(p.sum("istio_tcp_received_bytes_total") >= n * "GET /p HTTP/1.1\r\n".length());
            assertTrue(p.sum("istio_tcp_sent_bytes_total") >= n * "HTTP/1.1 200 OK\r\n".length());
            for (String metric : List.of("istio_tcp_connections_opened_total", "istio_tcp_connections_closed_total",
                    "istio_tcp_received_bytes_total", "istio_tcp_sent_bytes_total")) {
                PromText.Sample s = p.named(metric).get(0);
                assertEquals("tcp", s.label("request_protocol"), metric);
                assertEquals("source", s.label("reporter"));
                assertEquals("productpage-v1", s.label("source_workload"));
                assertEquals("-", s.label("response_flags"));
            }
        }
    }
}
