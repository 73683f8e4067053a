package io.meshproxy.sidecar;

import static io.meshproxy.sidecar.SidecarTest.reviews;
import static io.meshproxy.sidecar.SidecarTest.writeAtomically;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.WorkloadInfo;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar's telemetry wiring: {@code spec.workload} and {@code spec.telemetry} reach the proxy's
 * {@link io.meshproxy.telemetry.Telemetry}; Istio's metrics are scraped from the admin API's
 * {@code /stats/prometheus}; a reload that changes telemetry keeps the telemetry of the start.
 */
class SidecarTelemetryTest {
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

    static final String PROXY = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: test}
            spec:
              admin: {address: 127.0.0.1, port: 0}
              listeners:
              - {name: outbound, address: 127.0.0.1, port: 0, direction: OUTBOUND}
              - {name: inbound, address: 127.0.0.1, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:%d"}
              workload: {name: productpage-v1, namespace: shop, app: productpage, version: v1,
                serviceAccount: bookinfo-productpage}
              telemetry:
                metrics: {enabled: true, maxSeries: %d}
            """;

    private static Path configDir(Path dir, int maxSeries) throws IOException {
        Files.writeString(dir.resolve("proxy.yaml"), PROXY.formatted(v1.port(), maxSeries));
        Files.writeString(dir.resolve("reviews.yaml"), reviews(v1.port(), v2.port(), """
                  - route: [{destination: {host: reviews, subset: v1}}]
                """));
        return dir;
    }

    @Test
    void theTelemetryOfTheFilesIsTheProxys(@TempDir Path dir) throws Exception {
        try (Sidecar sidecar = Sidecar.start(List.of(configDir(dir, 500)), 1)) {
            TelemetryConfig t = sidecar.telemetry().config();
            assertEquals(new WorkloadInfo("productpage-v1", "shop", "productpage", "v1", "bookinfo-productpage",
                    Map.of()), t.workload());
            assertEquals(Map.of("outbound", "source", "inbound", "destination"), t.reporters());
            assertEquals(new TelemetryConfig.Metrics(true, List.of(), List.of(), 500), t.metrics());
            assertFalse(t.tracing().enabled());
            assertFalse(t.accessLog().enabled());
            assertEquals("telemetry: workload productpage-v1.shop (app productpage, version v1); metrics on (at most"
                    + " 500 series); tracing off; access logs off", Sidecar.describe(t));
        }
    }

    @Test
    void aReloadChangingTelemetrySwapsTheRoutesAndKeepsTheTelemetryOfTheStart(@TempDir Path dir) throws Exception {
        try (Sidecar sidecar = Sidecar.start(List.of(configDir(dir, 500)), 1)) {
            int outbound = sidecar.mesh().listenerPort("outbound");
            assertEquals("v1", SidecarTest.get(outbound, "reviews", "").headers().get("x-upstream"));
            TelemetryConfig atStart = sidecar.telemetry().config();

            writeAtomically(dir.resolve("proxy.yaml"), PROXY.formatted(v1.port(), 100));
            writeAtomically(dir.resolve("reviews.yaml"), reviews(v1.port(), v2.port(), """
                      - route: [{destination: {host: reviews, subset: v2}}]
                    """));
            await().atMost(Duration.ofSeconds(10)).until(() -> "v2".equals(
                    SidecarTest.get(outbound, "reviews", "").headers().get("x-upstream")));
            assertEquals(sidecar.watcher().appliedVersion(), sidecar.mesh().versionInfo());
            assertEquals(atStart, sidecar.telemetry().config(), "telemetry is built once, at start");
            assertEquals(500, sidecar.telemetry().config().metrics().maxSeries());
        }
    }

    @Test
    void demoMeshHasItsWorkloadAndMetricsOnTracingAndAccessLogsOff() {
        try (DemoMesh demo = DemoMesh.start(DemoMesh.Ports.EPHEMERAL)) {
            TelemetryConfig t = demo.sidecar().telemetry().config();
            assertEquals(new WorkloadInfo("reviews-v1", "default", "reviews", "v1", "bookinfo-reviews", Map.of()),
                    t.workload());
            assertTrue(t.metrics().enabled());
            assertFalse(t.tracing().enabled());
            assertFalse(t.accessLog().enabled());
            assertEquals("source", t.reporter("outbound"));
            assertEquals("destination", t.reporter("inbound"));
        }
    }

    @Test
    void istioRequestsTotalIsScrapedWithTheWorkloadsLabels(@TempDir Path dir) throws Exception {
        try (Sidecar sidecar = Sidecar.start(List.of(configDir(dir, 500)), 1)) {
            int outbound = sidecar.mesh().listenerPort("outbound");
            int inbound = sidecar.mesh().listenerPort("inbound");
            int n = 7;
            for (int i = 0; i < n; i++) {
                assertEquals(200, SidecarTest.get(outbound, "reviews", "").status());
            }
            for (int i = 0; i < 3; i++) {
                try (RawHttp http = new RawHttp(inbound)) {
                    assertEquals(200, http.send("GET /productpage HTTP/1.1\r\nHost: productpage\r\n"
                            + "Connection: close\r\n\r\n").read().status());
                }
            }
            int admin = sidecar.mesh().adminPort();
            HttpClient client = HttpClient.newHttpClient();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                HttpResponse<String> scrape = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + admin + "/stats/prometheus")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, scrape.statusCode(), scrape.body());
                double source = 0;
                double destination = 0;
                for (Sample s : samples(scrape.body(), "istio_requests_total")) {
                    if ("source".equals(s.labels().get("reporter"))) {
                        assertEquals("productpage-v1", s.labels().get("source_workload"), s.toString());
                        assertEquals("shop", s.labels().get("source_workload_namespace"), s.toString());
                        assertEquals("productpage", s.labels().get("source_app"), s.toString());
                        assertEquals("v1", s.labels().get("source_version"), s.toString());
                        assertEquals("200", s.labels().get("response_code"), s.toString());
                        source += s.value();
                    } else if ("destination".equals(s.labels().get("reporter"))) {
                        assertEquals("productpage-v1", s.labels().get("destination_workload"), s.toString());
                        assertEquals("shop", s.labels().get("destination_workload_namespace"), s.toString());
                        assertEquals("productpage", s.labels().get("destination_app"), s.toString());
                        assertEquals("v1", s.labels().get("destination_version"), s.toString());
                        destination += s.value();
                    }
                }
                assertEquals(n, source, "requests reported by the outbound listener");
                assertEquals(3, destination, "requests reported by the inbound listener");
            });
        }
    }

    @Test
    void theDemoTrafficShowsInTheScrape() throws Exception {
        try (DemoMesh demo = DemoMesh.start(DemoMesh.Ports.EPHEMERAL)) {
            DemoMesh.traffic(demo.mesh().client("outbound"), 20, false);
            HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + demo.mesh().adminPort() + "/stats/prometheus")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, scrape.statusCode());
            double total = samples(scrape.body(), "istio_requests_total").stream()
                    .filter(s -> "source".equals(s.labels().get("reporter"))
                            && "reviews-v1".equals(s.labels().get("source_workload")))
                    .mapToDouble(Sample::value).sum();
            assertEquals(20, total, scrape.body());
        }
    }

    /** One sample of the Prometheus text format: {@code name{label="value",...} value}. */
    record Sample(String name, Map<String, String> labels, double value) {}

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    /** The samples of metric {@code name} in a scrape (comments skipped, label values unescaped). */
    static List<Sample> samples(String scrape, String name) {
        return scrape.lines().filter(l -> !l.startsWith("#")).map(SAMPLE::matcher).filter(Matcher::find)
                .filter(m -> m.group(1).equals(name))
                .map(m -> {
                    Map<String, String> labels = new LinkedHashMap<>();
                    if (m.group(2) != null) {
                        Matcher l = LABEL.matcher(m.group(2));
                        while (l.find()) {
                            labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\n", "\n")
                                    .replace("\\\\", "\\"));
                        }
                    }
                    return new Sample(m.group(1), labels, Double.parseDouble(m.group(3)));
                })
                .toList();
    }

    @Test
    void theScrapeParserReadsThePrometheusTextFormat() {
        List<Sample> s = samples("""
                # HELP istio_requests_total
                # TYPE istio_requests_total counter
                istio_requests_total{reporter="source",source_workload="a \\"b\\"",response_code="200"} 7.0
                istio_requests_total_other 1
                istio_requests_total 2
                """, "istio_requests_total");
        assertEquals(List.of(
                new Sample("istio_requests_total", Map.of("reporter", "source", "source_workload", "a \"b\"",
                        "response_code", "200"), 7.0),
                new Sample("istio_requests_total", Map.of(), 2.0)), s);
    }
}
