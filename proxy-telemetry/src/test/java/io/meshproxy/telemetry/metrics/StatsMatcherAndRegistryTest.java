package io.meshproxy.telemetry.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.TelemetryConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Istio's proxyStatsMatcher on whole metrics, and an application's own MeterRegistry. */
class StatsMatcherAndRegistryTest {

    static void requests(MetricsFixture f, int n) throws Exception {
        try (RawHttp c = new RawHttp(f.proxy.listenerPort("in"))) {
            for (int i = 0; i < n; i++) {
                assertEquals(200, c.send("GET /p HTTP/1.1\r\nHost: reviews\r\n\r\n").read().status());
            }
        }
    }

    @Test
    void inclusionAndExclusionRegexpsKeepAndDropWholeMetrics() throws Exception {
        TelemetryConfig.Metrics m = new TelemetryConfig.Metrics(true,
                List.of(".*upstream_rq_retry.*", ".*outlier_detection.*"),
                List.of("istio_request_bytes", "istio_response_bytes", ".*_bucket", ".*_cx_.*"), 10_000);
        try (TestUpstream reviews = TestUpstream.start("reviews");
             MetricsFixture f = new MetricsFixture(IstioMetricsTest.config(reviews), IstioMetricsTest.telemetry(m))) {
            requests(f, 3);
            await().atMost(Duration.ofSeconds(10)).until(() -> f.scrape().sum("istio_tcp_connections_closed_total") == 1);
            PromText p = f.scrape();
            assertEquals(3, p.sum("istio_requests_total"), "Istio's metrics stay whatever the inclusions");
            assertEquals(3, p.sum("istio_request_duration_milliseconds_count"), "excluding _bucket keeps _count");
            assertTrue(p.has("istio_request_duration_milliseconds_sum"));
            assertFalse(p.has("istio_request_duration_milliseconds_bucket"), "and drops the buckets");
            assertFalse(p.samples.stream().anyMatch(s -> s.name().startsWith("istio_request_bytes")));
            assertFalse(p.samples.stream().anyMatch(s -> s.name().startsWith("istio_response_bytes")));
            assertEquals(1, p.sum("istio_tcp_connections_opened_total"));
            assertTrue(p.has("envoy_cluster_upstream_rq_retry"), "included");
            assertTrue(p.has("envoy_cluster_upstream_rq_retry_overflow"), "included");
            assertTrue(p.has("envoy_cluster_outlier_detection_ejections_active"), "included");
            assertFalse(p.has("envoy_cluster_upstream_rq_total"), "not included");
            assertFalse(p.has("envoy_cluster_upstream_cx_total"), "excluded");
            assertFalse(p.has("envoy_cluster_upstream_cx_active"), "excluded");
            assertEquals(2 + 4, f.metrics().seriesCount(), "dropped metrics take no series: 2 per request combination");
            assertFalse(f.admin("/stats").body().contains("istio_request_bytes"));
        }
    }

    @Test
    void anApplicationsPrometheusRegistryIsServedAndKeepsItsOwnMeters() throws Exception {
        PrometheusMeterRegistry app = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        app.counter("orders.placed").increment(7);
        TelemetryConfig.Metrics m = new TelemetryConfig.Metrics(true, List.of(), List.of(".*orders.*"), 10_000);
        try (TestUpstream reviews = TestUpstream.start("reviews");
             MetricsFixture f = new MetricsFixture(IstioMetricsTest.config(reviews), IstioMetricsTest.telemetry(m), app)) {
            requests(f, 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> f.scrape().sum("istio_requests_total") == 2);
            PromText p = f.scrape();
            assertEquals(7, p.sum("orders_placed_total"), "the matcher judges meshproxy's metrics only");
            assertNotNull(app.find("istio.requests").counter(), "recorded in the application's registry");
        }
        app.close();
    }

    @Test
    void anotherKindOfRegistryGetsTheMetricsAndStatsButNoPrometheusEndpoint() throws Exception {
        SimpleMeterRegistry app = new SimpleMeterRegistry();
        try (TestUpstream reviews = TestUpstream.start("reviews");
             MetricsFixture f = new MetricsFixture(IstioMetricsTest.config(reviews), IstioMetricsTest.telemetry(null), app)) {
            requests(f, 4);
            await().atMost(Duration.ofSeconds(10)).until(() -> app.find("istio.requests").counters().stream()
                    .mapToDouble(c -> c.count()).sum() == 4);
            var prom = f.admin("/stats/prometheus");
            assertEquals(404, prom.statusCode());
            assertTrue(prom.body().contains("SimpleMeterRegistry"), prom.body());
            String stats = f.admin("/stats").body();
            assertTrue(stats.lines().anyMatch(l -> l.startsWith("istio_requests_total{") && l.endsWith(": 4")), stats);
            assertTrue(stats.lines().anyMatch(l -> l.startsWith("istio_request_duration_milliseconds_count{")
                    && l.contains("response_code=\"200\"") && l.endsWith(": 4")), stats);
            assertTrue(stats.contains("cluster." + IstioMetricsTest.REVIEWS + ".upstream_rq_total: 4\n"), stats);
        }
    }
}
