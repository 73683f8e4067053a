package io.meshproxy.config;

import static io.meshproxy.config.TelemetryTranslationTest.errors;
import static io.meshproxy.config.TelemetryTranslationTest.load;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.telemetry.TelemetryConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Istio's Telemetry resource (telemetry.istio.io): {@code tracing[].randomSamplingPercentage} and
 * {@code accessLogging[].disabled}, scoped as Istio scopes them — root namespace (the mesh), then the workload's
 * namespace, then a {@code selector} matching the workload's labels, most specific wins — and everything else
 * reported as not supported at its place.
 */
class TelemetryResourceTest {
    /** A Proxy for workload reviews-v2 (app reviews, version v2, team ratings) in namespace shop, tracing to Zipkin. */
    static final String PROXY = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: sidecar, namespace: shop}
            spec:
              listeners:
              - {name: out, port: 0, direction: OUTBOUND}
              workload: {name: reviews-v2, app: reviews, version: v2, labels: {team: ratings}}
              telemetry:
                tracing: {samplingPercent: 1, zipkin: {endpoint: "http://127.0.0.1:9411/api/v2/spans"}}
            """;

    /** A Telemetry named {@code name} in {@code namespace} (null: not written) with {@code spec} (from line 5). */
    static String telemetry(String name, String namespace, String spec) {
        return """
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: %s%s}
                spec:
                """.formatted(name, namespace == null ? "" : ", namespace: " + namespace) + spec;
    }

    static String sampling(double pct) {
        return "  tracing: [{randomSamplingPercentage: " + pct + "}]\n";
    }

    static double samplingOf(String... telemetries) throws ConfigFileException {
        String[] all = new String[telemetries.length + 1];
        all[0] = PROXY;
        System.arraycopy(telemetries, 0, all, 1, telemetries.length);
        return load(all).telemetry().tracing().samplingPercent();
    }

    @Test
    void rootNamespaceAppliesToTheWholeMesh() throws Exception {
        assertEquals(10.0, samplingOf(telemetry("mesh-default", "istio-system", sampling(10))));
    }

    @Test
    void theWorkloadsNamespaceOverridesTheRoot() throws Exception {
        assertEquals(20.0, samplingOf(telemetry("mesh-default", "istio-system", sampling(10)),
                telemetry("shop-default", "shop", sampling(20))));
        // Without a namespace, a Telemetry is in the Proxy's namespace, as every resource.
        assertEquals(20.0, samplingOf(telemetry("mesh-default", "istio-system", sampling(10)),
                telemetry("shop-default", null, sampling(20))));
    }

    @Test
    void aSelectorMatchingTheWorkloadOverridesTheNamespace() throws Exception {
        assertEquals(30.0, samplingOf(
                telemetry("mesh-default", "istio-system", sampling(10)),
                telemetry("reviews", "shop", "  selector: {matchLabels: {app: reviews, team: ratings}}\n" + sampling(30)),
                telemetry("shop-default", "shop", sampling(20))));
    }

    @Test
    void telemetriesForOtherWorkloadsDoNotApplyWithAWarningEach() throws Exception {
        LoadedConfig loaded = load(PROXY,
                telemetry("ratings", "shop", "  selector: {matchLabels: {app: ratings}}\n" + sampling(50)),
                telemetry("v1-only", "shop", "  selector: {matchLabels: {app: reviews, version: v1}}\n" + sampling(60)),
                telemetry("elsewhere", "payments", sampling(70)),
                telemetry("elsewhere-selected", "payments", "  selector: {matchLabels: {app: reviews}}\n" + sampling(80)));
        assertEquals(1.0, loaded.telemetry().tracing().samplingPercent(), "spec.telemetry's, untouched");
        assertEquals(List.of(
                "t1.yaml:2:7: Telemetry 'ratings' selects {app=ratings}, which this workload's labels {app=reviews,"
                        + " team=ratings, version=v2} do not match: it does not apply",
                "t2.yaml:2:7: Telemetry 'v1-only' selects {app=reviews, version=v1}, which this workload's labels"
                        + " {app=reviews, team=ratings, version=v2} do not match: it does not apply",
                "t3.yaml:2:7: Telemetry 'elsewhere' applies to namespace 'payments'; this workload is in 'shop' (and"
                        + " the root namespace, for the whole mesh, is istio-system): it does not apply",
                "t4.yaml:2:7: Telemetry 'elsewhere-selected' selects workloads of namespace 'payments'; this workload"
                        + " is in 'shop': it does not apply"),
                loaded.warnings().stream().map(ConfigError::toString).toList());
    }

    @Test
    void aSelectorInTheRootNamespaceSelectsOnlyWorkloadsThere() throws Exception {
        assertEquals(1.0, samplingOf(telemetry("r", "istio-system",
                "  selector: {matchLabels: {app: reviews}}\n" + sampling(40))));
    }

    @Test
    void eachSettingComesFromTheMostSpecificLevelThatWritesIt() throws Exception {
        LoadedConfig loaded = load(PROXY,
                telemetry("mesh-default", "istio-system", "  accessLogging: [{disabled: false}]\n" + sampling(10)),
                telemetry("reviews", "shop", "  selector: {matchLabels: {app: reviews}}\n" + sampling(30)));
        TelemetryConfig t = loaded.telemetry();
        assertEquals(30.0, t.tracing().samplingPercent(), "the workload's Telemetry writes the sampling");
        assertTrue(t.accessLog().enabled(), "the root's writes access logging, and nothing more specific does");
        assertEquals(new TelemetryConfig.AccessLog("/dev/stdout", 100, true, 8192), t.accessLog());
    }

    @Test
    void accessLoggingDisabledTurnsOffTheProxysAccessLogKeepingItsSettings() throws Exception {
        String proxy = PROXY + "    accessLog: {path: /tmp/access.log, samplingPercent: 5}\n";
        assertEquals(new TelemetryConfig.AccessLog("/tmp/access.log", 5, true, 8192),
                load(proxy).telemetry().accessLog());
        TelemetryConfig t = load(proxy, telemetry("quiet", "shop", "  accessLogging: [{disabled: true}]\n")).telemetry();
        assertFalse(t.accessLog().enabled());
        assertEquals(new TelemetryConfig.AccessLog(null, 5, true, 8192), t.accessLog());
        // A more specific one turns it back on, to the Proxy's path.
        TelemetryConfig back = load(proxy, telemetry("quiet", "shop", "  accessLogging: [{disabled: true}]\n"),
                telemetry("loud", "shop", "  selector: {matchLabels: {version: v2}}\n"
                        + "  accessLogging: [{disabled: false}]\n")).telemetry();
        assertEquals(new TelemetryConfig.AccessLog("/tmp/access.log", 5, true, 8192), back.accessLog());
    }

    @Test
    void samplingWithoutAnExporterWarns() throws Exception {
        String proxy = PROXY.replace("    tracing: {samplingPercent: 1, zipkin: {endpoint: \"http://127.0.0.1:9411/api/v2/spans\"}}\n",
                "    metrics: {enabled: true}\n");
        LoadedConfig loaded = load(proxy, telemetry("mesh", "istio-system", sampling(10)));
        assertFalse(loaded.telemetry().tracing().enabled());
        assertEquals(List.of("t1.yaml:5:40: 'randomSamplingPercentage' has no effect: tracing is off until the"
                + " Proxy's spec.telemetry.tracing.zipkin.endpoint is set"),
                loaded.warnings().stream().map(ConfigError::toString).toList());
    }

    @Test
    void twoTelemetriesAtOneLevelAreAnError() {
        assertEquals(List.of("t2.yaml:2:7: a second Telemetry for the whole namespace 'shop': 'a' at t1.yaml:2:7 is"
                + " one already; Istio would apply only the older of them, keep one"),
                errors(PROXY, telemetry("a", "shop", sampling(10)), telemetry("b", null, sampling(20))));
        assertEquals(List.of("t2.yaml:2:7: a second Telemetry for this workload: 'a' at t1.yaml:2:7 is one already;"
                + " Istio would apply only the older of them, keep one"),
                errors(PROXY, telemetry("a", "shop", "  selector: {matchLabels: {app: reviews}}\n" + sampling(10)),
                        telemetry("b", "shop", "  selector: {matchLabels: {version: v2}}\n" + sampling(20))));
    }

    @Test
    void whatDoesNotMapIsReportedAtItsPlace() {
        assertEquals(List.of(
                "t1.yaml:5:3: 'targetRef' is not supported: it selects gateways and waypoints; a sidecar's workload"
                        + " is chosen with 'selector'",
                "t1.yaml:7:5: 'providers' is not supported yet (comes with more exporters; spans go to"
                        + " spec.telemetry.tracing.zipkin of the Proxy)",
                "t1.yaml:8:5: 'match' is not supported yet (a Telemetry applies to both directions)",
                "t1.yaml:9:5: 'customTags' is not supported yet (span tags are Istio's standard ones)",
                "t1.yaml:10:5: 'disableSpanReporting' is not supported yet",
                "t1.yaml:11:3: 'metrics' is not supported yet (use spec.telemetry.metrics of the Proxy)",
                "t1.yaml:15:5: 'providers' is not supported yet (comes with more sinks; access logs go to"
                        + " spec.telemetry.accessLog.path of the Proxy)",
                "t1.yaml:16:5: 'filter' is not supported yet (CEL expressions; see"
                        + " spec.telemetry.accessLog.alwaysLogErrors and samplingPercent)"),
                errors(PROXY, telemetry("everything", "shop", """
                  targetRef: {kind: Gateway, name: ingress}
                  tracing:
                  - providers: [{name: zipkin}]
                    match: {mode: SERVER}
                    customTags: {env: {literal: {value: prod}}}
                    disableSpanReporting: false
                  metrics:
                  - providers: [{name: prometheus}]
                    overrides: [{match: {metric: REQUEST_COUNT, mode: CLIENT}, disabled: true}]
                  accessLogging:
                  - providers: [{name: otel}]
                    filter: {expression: "response.code >= 400"}
                """)));
    }

    @Test
    void typosAndBadValuesInTelemetryAreCaught() {
        assertEquals(List.of(
                "t1.yaml:5:13: a selector needs 'matchLabels'; without 'selector' a Telemetry applies to its whole"
                        + " namespace",
                "t1.yaml:7:5: unknown field 'randomSamplingPercent' in an entry of 'tracing' (did you mean"
                        + " 'randomSamplingPercentage'?)",
                "t1.yaml:8:5: only one 'tracing' entry is supported, as in Istio",
                "t1.yaml:8:31: 'randomSamplingPercentage' must be in 0..100, was 150",
                "t1.yaml:10:15: 'disabled' must be true or false, got string 'maybe'",
                "t1.yaml:11:5: unknown field 'disable' in an entry of 'accessLogging' (did you mean 'disabled'?)"),
                errors(PROXY, telemetry("typos", "shop", """
                  selector: {}
                  tracing:
                  - randomSamplingPercent: 10
                  - randomSamplingPercentage: 150
                  accessLogging:
                  - disabled: maybe
                  - disable: true
                """)));
    }

    @Test
    void aSecondDisabledForTheOneAccessLogIsAnError() {
        assertEquals(List.of("t1.yaml:7:5: a second 'disabled' for the access log (the first at t1.yaml:6:5):"
                + " meshproxy has one access log; keep one"),
                errors(PROXY, telemetry("twice", "shop", """
                  accessLogging:
                  - disabled: true
                  - disabled: false
                """)));
    }

    @Test
    void theTelemetryExampleSamplesWhatItsReadmeSays() throws Exception {
        LoadedConfig loaded = ConfigLoader.load(ExamplesTest.EXAMPLES.resolve("telemetry"));
        TelemetryConfig t = loaded.telemetry();
        assertEquals(25.0, t.tracing().samplingPercent(), "the frontend Telemetry wins over the mesh default");
        assertEquals("http://127.0.0.1:9411/api/v2/spans", t.tracing().zipkinEndpoint());
        assertEquals(new TelemetryConfig.AccessLog("/dev/stdout", 10, true, 8192), t.accessLog());
        assertEquals(new TelemetryConfig.Metrics(true, List.of(),
                List.of("istio_request_bytes.*", "istio_response_bytes.*"), 5000), t.metrics());
        assertEquals("productpage-v1", t.workload().name());
        assertEquals("bookinfo", t.workload().namespace());
        assertEquals(List.of(), loaded.warnings());
    }

    @Test
    void telemetryApiVersions() throws Exception {
        String v1alpha1 = telemetry("old", "shop", sampling(25)).replace("telemetry.istio.io/v1", "telemetry.istio.io/v1alpha1");
        assertEquals(25.0, samplingOf(v1alpha1));
        assertEquals(List.of("t1.yaml:1:13: apiVersion of Telemetry must be one of telemetry.istio.io/v1,"
                + " telemetry.istio.io/v1alpha1, was 'telemetry.istio.io/v2'"),
                errors(PROXY, telemetry("new", "shop", sampling(25)).replace("telemetry.istio.io/v1", "telemetry.istio.io/v2")));
    }
}
