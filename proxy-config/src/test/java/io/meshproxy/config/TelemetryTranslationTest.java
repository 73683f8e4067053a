package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.WorkloadInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Proxy's {@code spec.workload} and {@code spec.telemetry} into proxy-telemetry's {@link TelemetryConfig}:
 * every field, the defaults, the errors at their places; the reporter of each listener.
 */
class TelemetryTranslationTest {
    /** A Proxy whose spec continues with {@code more} (indented by two spaces; it starts on line 9). */
    static String proxy(String more) {
        return """
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: sidecar, namespace: shop}
                spec:
                  admin: {port: 0}
                  listeners:
                  - {name: out, port: 0, direction: OUTBOUND}
                  - {name: in, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:8080"}
                """ + more;
    }

    static LoadedConfig load(String... yaml) throws ConfigFileException {
        List<ConfigSource> sources = new ArrayList<>();
        for (int i = 0; i < yaml.length; i++) {
            sources.add(new ConfigSource(i == 0 ? "proxy.yaml" : "t" + i + ".yaml", yaml[i]));
        }
        return ConfigLoader.loadSources(sources);
    }

    static List<String> errors(String... yaml) {
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> load(yaml));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void withoutTelemetryFieldsEverythingTakesItsDefault() throws Exception {
        TelemetryConfig t = load(proxy("")).telemetry();
        assertEquals(new WorkloadInfo("unknown", "shop", "unknown", "unknown", "unknown", Map.of()), t.workload());
        assertEquals(TelemetryConfig.Metrics.DEFAULT, t.metrics());
        assertTrue(t.metrics().enabled(), "Istio's metrics are on unless turned off");
        assertEquals(TelemetryConfig.Tracing.DISABLED, t.tracing());
        assertEquals(1.0, t.tracing().samplingPercent());
        assertFalse(t.tracing().enabled());
        assertFalse(t.accessLog().enabled());
        assertEquals(Map.of("out", "source", "in", "destination"), t.reporters());
    }

    @Test
    void theWorkloadNamespaceIsTheProxysUnlessWritten() throws Exception {
        String noNamespace = proxy("").replace(", namespace: shop", "");
        assertEquals("default", load(noNamespace).telemetry().workload().namespace());
        assertEquals("payments", load(proxy("  workload: {namespace: payments}\n")).telemetry().workload().namespace());
    }

    @Test
    void everyFieldTranslates() throws Exception {
        LoadedConfig loaded = load(proxy("""
                  workload:
                    name: reviews-v2
                    namespace: bookinfo
                    app: reviews
                    version: v2
                    serviceAccount: bookinfo-reviews
                    labels: {team: ratings, tier: backend}
                  telemetry:
                    metrics:
                      enabled: false
                      inclusionRegexps: ["istio_requests_total", "istio_request_duration_.*"]
                      exclusionRegexps: [".*_bytes.*"]
                      maxSeries: 2500
                    tracing:
                      samplingPercent: 0.5
                      zipkin: {endpoint: "http://zipkin.istio-system:9411/api/v2/spans"}
                      maxQueuedSpans: 500
                      serviceName: reviews.bookinfo
                    accessLog:
                      path: /var/log/meshproxy/access.log
                      samplingPercent: 10
                      alwaysLogErrors: false
                      queueSize: 1024
                """));
        TelemetryConfig t = loaded.telemetry();
        assertEquals(new WorkloadInfo("reviews-v2", "bookinfo", "reviews", "v2", "bookinfo-reviews",
                Map.of("team", "ratings", "tier", "backend")), t.workload());
        assertEquals(new TelemetryConfig.Metrics(false, List.of("istio_requests_total", "istio_request_duration_.*"),
                List.of(".*_bytes.*"), 2500), t.metrics());
        assertEquals(new TelemetryConfig.Tracing(0.5, "http://zipkin.istio-system:9411/api/v2/spans", 500,
                "reviews.bookinfo"), t.tracing());
        assertTrue(t.tracing().enabled());
        assertEquals(new TelemetryConfig.AccessLog("/var/log/meshproxy/access.log", 10, false, 1024), t.accessLog());
        assertEquals("source", t.reporter("out"));
        assertEquals("destination", t.reporter("in"));
        assertEquals(List.of(), loaded.warnings());
    }

    @Test
    void partsWrittenTakeTheDefaultsOfTheRest() throws Exception {
        TelemetryConfig t = load(proxy("""
                  telemetry:
                    metrics: {maxSeries: 100}
                    tracing: {zipkin: {endpoint: "https://zipkin.example.com/api/v2/spans"}}
                    accessLog: {}
                """)).telemetry();
        assertEquals(new TelemetryConfig.Metrics(true, List.of(), List.of(), 100), t.metrics());
        assertEquals(new TelemetryConfig.Tracing(1.0, "https://zipkin.example.com/api/v2/spans", 10_000, null),
                t.tracing());
        // An accessLog block turns access logs on: to standard output, every request, errors always.
        assertEquals(new TelemetryConfig.AccessLog("/dev/stdout", 100, true, 8192), t.accessLog());
    }

    @Test
    void appAndVersionComeFromTheLabelsWhenNotWritten() throws Exception {
        WorkloadInfo w = load(proxy("  workload: {name: ratings-v1, labels: {app: ratings, version: v1}}\n"))
                .telemetry().workload();
        assertEquals("ratings", w.app());
        assertEquals("v1", w.version());
        WorkloadInfo k8s = load(proxy("  workload: {labels: {app.kubernetes.io/name: ratings,"
                + " app.kubernetes.io/version: v3}}\n")).telemetry().workload();
        assertEquals("ratings", k8s.app());
        assertEquals("v3", k8s.version());
    }

    @Test
    void tracingWithoutAnExporterIsOffAndSaysSo() throws Exception {
        LoadedConfig loaded = load(proxy("""
                  telemetry:
                    tracing: {samplingPercent: 5}
                """));
        assertFalse(loaded.telemetry().tracing().enabled());
        assertEquals(5.0, loaded.telemetry().tracing().samplingPercent());
        assertEquals(List.of("proxy.yaml:10:5: tracing is off: spec.telemetry.tracing has no zipkin.endpoint to"
                + " export spans to"), loaded.warnings().stream().map(ConfigError::toString).toList());
    }

    @Test
    void errorsAreReportedAtTheirPlaces() {
        assertEquals(List.of(
                "proxy.yaml:10:5: unknown field 'nmae' in 'workload' (did you mean 'name'?)",
                "proxy.yaml:11:16: 'namespace' must not be empty",
                "proxy.yaml:12:38: the value of 'replicas' in 'labels' must be a string, got integer '3' (quote it: \"3\")",
                "proxy.yaml:14:5: unknown field 'metric' in 'telemetry' (did you mean 'metrics'?)",
                "proxy.yaml:15:5: unknown field 'tracng' in 'telemetry' (did you mean 'tracing'?)",
                "proxy.yaml:16:5: unknown field 'accesLog' in 'telemetry' (did you mean 'accessLog'?)"),
                errors(proxy("""
                  workload:
                    nmae: reviews-v1
                    namespace: ""
                    labels: {app: reviews, replicas: 3}
                  telemetry:
                    metric: {enabled: true}
                    tracng: {samplingPercent: 1}
                    accesLog: {path: /dev/stdout}
                """)));
    }

    @Test
    void badValuesAreReportedAtTheirPlaces() {
        assertEquals(List.of(
                "proxy.yaml:11:30: bad regular expression in 'inclusionRegexps': Unclosed group near index 7 of"
                        + " 'istio_('",
                "proxy.yaml:12:34: bad regular expression in 'exclusionRegexps': Dangling meta character '*' near"
                        + " index 0 of '*bytes'",
                "proxy.yaml:13:18: 'maxSeries' must be in 1..1000000, was 0",
                "proxy.yaml:14:16: 'enabled' must be true or false, got string 'yes please'",
                "proxy.yaml:16:24: 'samplingPercent' must be in 0..100, was 101",
                "proxy.yaml:17:26: 'endpoint' needs the path of Zipkin's span API, such as"
                        + " http://zipkin.istio-system:9411/api/v2/spans, was 'http://zipkin:9411'",
                "proxy.yaml:18:23: 'maxQueuedSpans' must be in 1..1000000, was -1",
                "proxy.yaml:20:13: 'path' must be an absolute file path or /dev/stdout, was 'logs/access.log'",
                "proxy.yaml:21:24: 'samplingPercent' must be in 0..100, was -0.5",
                "proxy.yaml:22:24: 'alwaysLogErrors' must be true or false, got integer '1'",
                "proxy.yaml:23:18: 'queueSize' must be in 1..1000000, was 0"),
                errors(proxy("""
                  telemetry:
                    metrics:
                      inclusionRegexps: [ok, "istio_("]
                      exclusionRegexps: ["fine", "*bytes"]
                      maxSeries: 0
                      enabled: yes please
                    tracing:
                      samplingPercent: 101
                      zipkin: {endpoint: "http://zipkin:9411"}
                      maxQueuedSpans: -1
                    accessLog:
                      path: logs/access.log
                      samplingPercent: -0.5
                      alwaysLogErrors: 1
                      queueSize: 0
                """)));
    }

    @Test
    void zipkinEndpointMustBeAnHttpUrlWithAHost() {
        assertEquals(List.of("proxy.yaml:10:34: 'endpoint' must be an http or https URL, such as"
                + " http://zipkin.istio-system:9411/api/v2/spans, was 'zipkin:9411/api/v2/spans'"),
                errors(proxy("""
                  telemetry:
                    tracing: {zipkin: {endpoint: "zipkin:9411/api/v2/spans"}}
                """)));
        assertEquals(List.of("proxy.yaml:10:34: 'endpoint' must name a host, such as"
                + " http://zipkin.istio-system:9411/api/v2/spans, was 'http:///api/v2/spans'"),
                errors(proxy("""
                  telemetry:
                    tracing: {zipkin: {endpoint: "http:///api/v2/spans"}}
                """)));
        assertEquals(List.of("proxy.yaml:10:23: missing required field 'endpoint' in 'zipkin'"),
                errors(proxy("""
                  telemetry:
                    tracing: {zipkin: {}}
                """)));
    }

    @Test
    void appWrittenTwiceMustAgree() {
        assertEquals(List.of("proxy.yaml:11:14: label 'app' is 'ratings' but 'app' is 'reviews' at proxy.yaml:10:10:"
                + " write it once"), errors(proxy("""
                  workload:
                    app: reviews
                    labels: {app: ratings}
                """)));
    }

    @Test
    void statPrefixIsNotSupported() {
        String vs = """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: reviews}
                spec:
                  hosts: [reviews.shop.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1}]
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: reviews}
                spec:
                  hosts: [reviews]
                  http:
                  - match: [{uri: {prefix: /}, statPrefix: reviews}]
                    route: [{destination: {host: reviews}}]
                """;
        assertEquals(List.of("t1.yaml:16:32: 'statPrefix' is not supported: meshproxy keeps no per-route statistics"
                + " (a route is never a metric label)"), errors(proxy(""), vs));
    }
}
