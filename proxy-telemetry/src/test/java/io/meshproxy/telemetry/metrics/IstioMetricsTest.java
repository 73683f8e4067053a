package io.meshproxy.telemetry.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.WorkloadInfo;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Istio's standard metrics, scraped from a real proxy's {@code /stats/prometheus} after real requests. */
class IstioMetricsTest {
    static final String REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
    static final WorkloadInfo PRODUCTPAGE =
            new WorkloadInfo("productpage-v1", "default", "productpage", "v1", "bookinfo-productpage", null);

    /** Listener "in": {@code /none...} to cluster "empty" (no endpoints: 503 UH), everything else to reviews. */
    static ProxyConfig config(TestUpstream reviews) {
        RouteConfiguration routes = RouteConfiguration.builder().name("routes").virtualHost(VirtualHost.builder()
                .name("all").domain("*")
                .route(Route.builder().name("none").match(RouteMatch.builder().pathPrefix("/none").build())
                        .action(RouteAction.to("empty")).build())
                .route(Route.builder().name("reviews").action(RouteAction.to(REVIEWS)).build()).build()).build();
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(routes).build())
                .cluster(ClusterConfig.builder().name(REVIEWS).protocol(UpstreamProtocol.HTTP1)
                        .endpoint("127.0.0.1", reviews.port()).build())
                .cluster(ClusterConfig.builder().name("empty").protocol(UpstreamProtocol.HTTP1).build())
                .admin(new AdminConfig("127.0.0.1", 0))
                .build();
    }

    static TelemetryConfig telemetry(TelemetryConfig.Metrics metrics) {
        return new TelemetryConfig(PRODUCTPAGE, Map.of("in", "source"), metrics, null, null);
    }

    @Test
    void theScrapeCountsEveryRequestUnderIstiosNamesAndLabels() throws Exception {
        try (TestUpstream reviews = TestUpstream.start("reviews");
             MetricsFixture f = new MetricsFixture(config(reviews), telemetry(null))) {
            int ok = 20;
            int notFound = 10;
            int noHealthy = 5;
            int n = ok + notFound + noHealthy;
            try (RawHttp a = new RawHttp(f.proxy.listenerPort("in")); RawHttp b = new RawHttp(f.proxy.listenerPort("in"))) {
                for (int i = 0; i < n; i++) {
                    RawHttp c = i % 2 == 0 ? a : b;
                    String path = i < ok ? "/p/" + i : i < ok + notFound ? "/status/404" : "/none/" + i;
                    int expected = i < ok ? 200 : i < ok + notFound ? 404 : 503;
                    assertEquals(expected, c.send("GET " + path + " HTTP/1.1\r\nHost: reviews\r\n\r\n").read().status());
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> f.scrape().sum("istio_requests_total") == n);

            var http = f.admin("/stats/prometheus");
            assertEquals("text/plain; version=0.0.4; charset=utf-8", http.headers().firstValue("content-type").orElse(""));
            PromText p = PromText.parse(http.body());
            assertEquals("counter", p.types.get("istio_requests_total"), "TYPE line of " + p.types);
            assertEquals("histogram", p.types.get("istio_request_duration_milliseconds"));

            // every label of Istio's standard metrics, with Istio's values for a source-reported request
            for (PromText.Sample s : p.named("istio_requests_total")) {
                assertEquals(List.of("connection_security_policy", "destination_app", "destination_principal",
                        "destination_service", "destination_service_name", "destination_service_namespace",
                        "destination_version", "destination_workload", "destination_workload_namespace",
                        "grpc_response_status", "reporter", "request_protocol", "response_code", "response_flags",
                        "source_app", "source_principal", "source_version", "source_workload",
                        "source_workload_namespace"), s.labels().keySet().stream().sorted().toList());
                assertEquals("source", s.label("reporter"));
                assertEquals("productpage-v1", s.label("source_workload"));
                assertEquals("default", s.label("source_workload_namespace"));
                assertEquals("productpage", s.label("source_app"));
                assertEquals("v1", s.label("source_version"));
                assertEquals("unknown", s.label("source_principal"));
                assertEquals("unknown", s.label("destination_workload"));
                assertEquals("unknown", s.label("destination_principal"));
                assertEquals("http", s.label("request_protocol"));
                assertEquals("", s.label("grpc_response_status"));
                assertEquals("unknown", s.label("connection_security_policy"));
            }
            Map<String, Double> byOutcome = p.sumBy("istio_requests_total",
                    s -> s.label("destination_service_name") + " " + s.label("response_code") + " " + s.label("response_flags"));
            assertEquals(Map.of("reviews 200 -", (double) ok, "reviews 404 -", (double) notFound,
                    "empty 503 UH", (double) noHealthy), byOutcome);
            PromText.Sample reviewsOk = p.named("istio_requests_total").stream()
                    .filter(s -> s.label("response_code").equals("200")).findFirst().orElseThrow();
            assertEquals("reviews.default.svc.cluster.local", reviewsOk.label("destination_service"));
            assertEquals("default", reviewsOk.label("destination_service_namespace"));

            // histogram: Istio's buckets, cumulative, +Inf equals _count, counts sum to N
            double[] expectedLe = Arrays.copyOf(IstioMetrics.DURATION_BUCKETS_MS, IstioMetrics.DURATION_BUCKETS_MS.length + 1);
            expectedLe[expectedLe.length - 1] = Double.POSITIVE_INFINITY;
            Map<String, List<PromText.Sample>> bySeries = new TreeMap<>();
            for (PromText.Sample s : p.named("istio_request_duration_milliseconds_bucket")) {
                Map<String, String> l = new TreeMap<>(s.labels());
                l.remove("le");
                bySeries.computeIfAbsent(l.toString(), k -> new java.util.ArrayList<>()).add(s);
            }
            assertEquals(3, bySeries.size());
            for (List<PromText.Sample> buckets : bySeries.values()) {
                double[] le = buckets.stream().mapToDouble(s -> s.label("le").equals("+Inf")
                        ? Double.POSITIVE_INFINITY : Double.parseDouble(s.label("le"))).toArray();
                assertTrue(Arrays.equals(expectedLe, le), "Istio's buckets: " + Arrays.toString(le));
                for (int i = 1; i < buckets.size(); i++) {
                    assertTrue(buckets.get(i).value() >= buckets.get(i - 1).value(), "cumulative: " + buckets);
                }
                Map<String, String> l = new java.util.HashMap<>(buckets.get(0).labels());
                l.remove("le");
                double count = p.named("istio_request_duration_milliseconds_count").stream()
                        .filter(s -> s.labels().equals(l)).findFirst().orElseThrow().value();
                assertEquals(count, buckets.get(buckets.size() - 1).value(), "+Inf bucket = _count");
            }
            assertEquals(n, p.sum("istio_request_duration_milliseconds_count"));
            assertTrue(p.sum("istio_request_duration_milliseconds_sum") > 0);
            assertFalse(p.has("istio_request_duration_milliseconds_max"), "Istio's histograms have no _max");

            // the reference documents' queries are computable
            double p50 = p.histogramQuantile(0.5, "istio_request_duration_milliseconds");
            assertTrue(p50 > 0 && p50 <= 60_000, "histogram_quantile(0.5, sum by (le)) = " + p50);
            Map<String, Double> rate = p.sumBy("istio_requests_total",
                    s -> s.label("source_workload") + " -> " + s.label("destination_service_name"));
            assertEquals(Map.of("productpage-v1 -> reviews", (double) ok + notFound,
                    "productpage-v1 -> empty", (double) noHealthy), rate);
            Map<String, Double> errors = p.sumBy("istio_requests_total", s -> s.label("destination_service_name")
                    + (s.label("response_code").startsWith("2") ? " ok" : " error"));
            assertEquals((double) notFound / (ok + notFound), errors.get("reviews error") / rate.get("productpage-v1 -> reviews"));
            assertEquals(1.0, errors.get("empty error") / rate.get("productpage-v1 -> empty"));

            // sizes: one observation per request; reviews answers its name (7 bytes) to the 200s
            assertEquals(n, p.sum("istio_response_bytes_count"));
            assertEquals(n, p.sum("istio_request_bytes_count"));
            assertTrue(p.sum("istio_response_bytes_sum", s -> s.label("response_code").equals("200")) >= 7.0 * ok);
            assertEquals(0, p.sum("istio_request_bytes_sum"), "GETs carry no body");
        }
    }
}
