package io.meshproxy.config;

import static io.meshproxy.config.BrokenConfigTest.errorsOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ConnectionPoolConfig;
import io.meshproxy.core.config.FailureRateBreaker;
import io.meshproxy.core.config.FaultPolicy;
import io.meshproxy.core.config.HealthCheck;
import io.meshproxy.core.config.LbPolicy;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.LocalRateLimit;
import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.RetryBudget;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.TcpKeepalive;
import io.meshproxy.core.config.UpstreamProtocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The resilience fields of Istio's DestinationRule and VirtualService and the meshproxy extensions of the Proxy
 * resource: YAML in, {@link ProxyConfig} out, and every mistake with its {@code FILE:LINE:COLUMN}.
 */
class ResilienceTranslationTest {
    static final String PROXY = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: sidecar}
            spec:
              listeners:
              - {name: outbound, port: 0, direction: OUTBOUND}
            """;

    /** reviews on ports 9080 (HTTP) and 9090 (HTTP), endpoints v1 and v2. */
    static final String REVIEWS = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: reviews}
            spec:
              hosts: [reviews.default.svc.cluster.local]
              ports: [{number: 9080, name: http, protocol: HTTP}, {number: 9090, name: admin, protocol: HTTP}]
              resolution: STATIC
              endpoints:
              - {address: 127.0.0.1, labels: {version: v1}}
              - {address: 127.0.0.2, labels: {version: v2}}
            """;

    static final String H = "reviews.default.svc.cluster.local";

    static ProxyConfig load(String proxy, String... docs) throws ConfigFileException {
        List<ConfigSource> sources = new ArrayList<>();
        sources.add(new ConfigSource("proxy.yaml", proxy));
        sources.add(new ConfigSource("reviews.yaml", REVIEWS));
        for (int i = 0; i < docs.length; i++) {
            sources.add(new ConfigSource(i == 0 ? "case.yaml" : "case" + i + ".yaml", docs[i]));
        }
        return ConfigLoader.loadSources(sources).config();
    }

    static List<String> errors(String caseYaml) {
        return errorsOf(List.of(new ConfigSource("proxy.yaml", PROXY), new ConfigSource("reviews.yaml", REVIEWS),
                new ConfigSource("case.yaml", caseYaml)));
    }

    static List<String> proxyErrors(String proxy) {
        return errorsOf(List.of(new ConfigSource("proxy.yaml", proxy), new ConfigSource("reviews.yaml", REVIEWS)));
    }

    static String dr(String spec) {
        return """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: reviews}
                spec:
                  host: reviews
                """ + spec;
    }

    static String vs(String http) {
        return """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: reviews}
                spec:
                  hosts: [reviews]
                """ + http;
    }

    static RouteAction action(ProxyConfig config, int index) {
        Route r = config.listeners().get(0).routes().virtualHosts().stream()
                .filter(v -> v.name().equals(H + ":9080")).findFirst().orElseThrow().routes().get(index);
        return (RouteAction) r.action();
    }

    // ------------------------------------------------------------------ DestinationRule

    @Test
    void withoutADestinationRuleClustersHaveIstiosUnlimitedThresholds() throws Exception {
        ProxyConfig c = load(PROXY);
        ClusterConfig cluster = c.cluster("outbound|9080||" + H);
        assertEquals(CircuitBreakers.UNLIMITED, cluster.circuitBreakers());
        assertEquals(ConnectionPoolConfig.DEFAULT, cluster.connectionPool());
        assertNull(cluster.outlierDetection());
        assertEquals(RetryPolicy.ISTIO_DEFAULT, action(c, 0).retryPolicy(), "the default route retries as Istio's");
    }

    @Test
    void connectionPoolBecomesThresholdsAndPoolSettings() throws Exception {
        ProxyConfig c = load(PROXY, dr("""
                  trafficPolicy:
                    connectionPool:
                      tcp:
                        maxConnections: 10
                        connectTimeout: 250ms
                        tcpKeepalive: {time: 600s, interval: 30s, probes: 4}
                      http:
                        http1MaxPendingRequests: 5
                        http2MaxRequests: 20
                        maxRequestsPerConnection: 7
                        maxRetries: 2
                        idleTimeout: 30s
                        h2UpgradePolicy: UPGRADE
                        maxConcurrentStreams: 100
                """));
        for (int port : new int[] {9080, 9090}) {
            ClusterConfig cluster = c.cluster("outbound|" + port + "||" + H);
            assertEquals(new CircuitBreakers(10, 5, 20, 2, RetryBudget.DEFAULT), cluster.circuitBreakers());
            assertEquals(new ConnectionPoolConfig(7, 100,
                    new TcpKeepalive(Duration.ofSeconds(600), Duration.ofSeconds(30), 4)), cluster.connectionPool());
            assertEquals(Duration.ofMillis(250), cluster.connectTimeout());
            assertEquals(Duration.ofSeconds(30), cluster.idleTimeout());
            assertEquals(UpstreamProtocol.HTTP2, cluster.protocol(), "h2UpgradePolicy UPGRADE");
        }
    }

    @Test
    void zeroIsIstiosNotSetAndDoNotUpgradeKeepsTheProtocol() throws Exception {
        ProxyConfig c = load(PROXY, dr("""
                  trafficPolicy:
                    connectionPool:
                      tcp: {maxConnections: 0}
                      http: {http1MaxPendingRequests: 0, maxRequestsPerConnection: 0, h2UpgradePolicy: DO_NOT_UPGRADE}
                """));
        ClusterConfig cluster = c.cluster("outbound|9080||" + H);
        assertEquals(CircuitBreakers.UNLIMITED, cluster.circuitBreakers());
        assertEquals(ConnectionPoolConfig.DEFAULT, cluster.connectionPool());
        assertEquals(UpstreamProtocol.HTTP1, cluster.protocol());
    }

    @Test
    void outlierDetectionWithIstiosDefaults() throws Exception {
        ProxyConfig c = load(PROXY, dr("""
                  trafficPolicy:
                    outlierDetection:
                      consecutive5xxErrors: 0
                      consecutiveGatewayErrors: 4
                      consecutiveLocalOriginFailures: 2
                      splitExternalLocalOriginErrors: true
                      interval: 5s
                      baseEjectionTime: 1m
                      maxEjectionPercent: 0
                      minHealthPercent: 25
                """));
        assertEquals(OutlierDetection.builder().consecutive5xxErrors(0).consecutiveGatewayErrors(4)
                .consecutiveLocalOriginFailures(2).splitExternalLocalOriginErrors(true).interval(Duration.ofSeconds(5))
                .baseEjectionTime(Duration.ofMinutes(1)).maxEjectionPercent(10).minHealthPercent(25).build(),
                c.cluster("outbound|9080||" + H).outlierDetection());
        ProxyConfig empty = load(PROXY, dr("""
                  trafficPolicy:
                    outlierDetection: {}
                """));
        assertEquals(OutlierDetection.DEFAULT, empty.cluster("outbound|9080||" + H).outlierDetection());
    }

    @Test
    void deprecatedConsecutiveErrorsCountsGatewayErrorsWithAWarning() throws Exception {
        LoadedConfig loaded = ConfigLoader.loadSources(List.of(new ConfigSource("proxy.yaml", PROXY),
                new ConfigSource("reviews.yaml", REVIEWS), new ConfigSource("case.yaml", dr("""
                  trafficPolicy:
                    outlierDetection: {consecutiveErrors: 7}
                """))));
        OutlierDetection o = loaded.config().cluster("outbound|9080||" + H).outlierDetection();
        assertEquals(7, o.consecutiveGatewayErrors());
        assertEquals(0, o.consecutive5xxErrors());
        assertEquals(List.of("case.yaml:7:24: 'consecutiveErrors' is deprecated: it counts 502, 503 and 504 only;"
                + " write 'consecutiveGatewayErrors: 7' instead"),
                loaded.warnings().stream().map(ConfigError::toString).toList());
        assertEquals(List.of("case.yaml:7:24: 'consecutiveErrors' is deprecated and cannot be combined with"
                + " 'consecutiveGatewayErrors' or 'consecutive5xxErrors': remove it"), errors(dr("""
                  trafficPolicy:
                    outlierDetection: {consecutiveErrors: 7, consecutive5xxErrors: 2}
                """)));
    }

    @Test
    void subsetAndPortLevelPoliciesMergeAsIstioMergesThem() throws Exception {
        ProxyConfig c = load(PROXY, dr("""
                  trafficPolicy:
                    loadBalancer: {simple: LEAST_REQUEST}
                    connectionPool:
                      tcp: {maxConnections: 100, connectTimeout: 2s}
                      http: {http2MaxRequests: 1000}
                    outlierDetection: {consecutive5xxErrors: 3}
                    portLevelSettings:
                    - port: {number: 9090}
                      connectionPool:
                        tcp: {maxConnections: 7}
                  subsets:
                  - name: v1
                    labels: {version: v1}
                    trafficPolicy:
                      connectionPool:
                        http: {http2MaxRequests: 50}
                  - name: v2
                    labels: {version: v2}
                    trafficPolicy:
                      outlierDetection: {consecutive5xxErrors: 9}
                      portLevelSettings:
                      - port: {number: 9080}
                        loadBalancer: {simple: RANDOM}
                """));
        OutlierDetection three = OutlierDetection.builder().consecutive5xxErrors(3).build();
        ClusterConfig all = c.cluster("outbound|9080||" + H);
        assertEquals(CircuitBreakers.UNLIMITED.withMaxConnections(100).withMaxRequests(1000), all.circuitBreakers());
        assertEquals(LbPolicy.LEAST_REQUEST, all.lbPolicy());
        assertEquals(three, all.outlierDetection());
        // A port-level entry replaces the rule's settings whole: what it omits takes its default.
        ClusterConfig port9090 = c.cluster("outbound|9090||" + H);
        assertEquals(CircuitBreakers.UNLIMITED.withMaxConnections(7), port9090.circuitBreakers());
        assertEquals(ClusterConfig.DEFAULT_CONNECT_TIMEOUT, port9090.connectTimeout());
        assertEquals(LbPolicy.ROUND_ROBIN, port9090.lbPolicy());
        assertNull(port9090.outlierDetection());
        // A subset's connectionPool replaces the rule's connectionPool whole; the rest is inherited.
        ClusterConfig v1 = c.cluster("outbound|9080|v1|" + H);
        assertEquals(CircuitBreakers.UNLIMITED.withMaxRequests(50), v1.circuitBreakers());
        assertEquals(ClusterConfig.DEFAULT_CONNECT_TIMEOUT, v1.connectTimeout());
        assertEquals(LbPolicy.LEAST_REQUEST, v1.lbPolicy());
        assertEquals(three, v1.outlierDetection());
        // On 9090 the subset builds on the rule's port-level entry.
        assertEquals(CircuitBreakers.UNLIMITED.withMaxRequests(50), c.cluster("outbound|9090|v1|" + H).circuitBreakers());
        assertNull(c.cluster("outbound|9090|v1|" + H).outlierDetection());
        // The subset's own port-level entry replaces everything for its port.
        ClusterConfig v2 = c.cluster("outbound|9080|v2|" + H);
        assertEquals(LbPolicy.RANDOM, v2.lbPolicy());
        assertNull(v2.outlierDetection());
        assertEquals(CircuitBreakers.UNLIMITED, v2.circuitBreakers());
        ClusterConfig v2on9090 = c.cluster("outbound|9090|v2|" + H);
        assertEquals(OutlierDetection.builder().consecutive5xxErrors(9).build(), v2on9090.outlierDetection());
        assertEquals(CircuitBreakers.UNLIMITED.withMaxConnections(7), v2on9090.circuitBreakers());
        assertEquals(LbPolicy.ROUND_ROBIN, v2on9090.lbPolicy());
    }

    @Test
    void destinationRuleMistakesAreReportedAtTheirPlace() {
        assertEquals(List.of(
                "case.yaml:8:29: 'maxConnections' must be in 0..2147483647, was -1",
                "case.yaml:9:29: 'connectTimeout' must be a duration such as 10s, 1.5s, 250ms or 1m, was '5 s'",
                "case.yaml:10:13: unknown field 'tcpKeepAlive' in 'tcp' (did you mean 'tcpKeepalive'?)",
                "case.yaml:11:31: 'h2UpgradePolicy' must be one of DEFAULT, DO_NOT_UPGRADE, UPGRADE, was 'UPGRADED'"
                        + " (did you mean 'UPGRADE'?)",
                "case.yaml:12:44: 'maxEjectionPercent' must be in 0..100, was 101",
                "case.yaml:12:59: 'interval' must be more than 0",
                "case.yaml:13:5: 'retryBudget' is not supported yet (use the meshproxy extension"
                        + " 'destinations[].retryBudget' of the Proxy)"), errors(dr("""
                  trafficPolicy:
                    connectionPool:
                      tcp: {maxConnections: -1,
                            connectTimeout: 5 s,
                            tcpKeepAlive: {}}
                      http: {h2UpgradePolicy: UPGRADED}
                    outlierDetection: {maxEjectionPercent: 101, interval: 0s}
                    retryBudget: {}
                """)));
    }

    // ------------------------------------------------------------------ VirtualService

    @Test
    void retriesBecomeARetryPolicy() throws Exception {
        ProxyConfig c = load(PROXY, vs("""
                  http:
                  - match: [{uri: {prefix: /a}}]
                    route: [{destination: {host: reviews, port: {number: 9080}}}]
                    retries: {attempts: 4, perTryTimeout: 1.5s, retryOn: "gateway-error, 409,retriable-4xx", backoff: 10ms}
                  - match: [{uri: {prefix: /b}}]
                    route: [{destination: {host: reviews, port: {number: 9080}}}]
                    retries: {attempts: 0}
                  - match: [{uri: {prefix: /c}}]
                    route: [{destination: {host: reviews, port: {number: 9080}}}]
                    retries: {perTryTimeout: 2s}
                  - match: [{uri: {prefix: /d}}]
                    route: [{destination: {host: reviews, port: {number: 9080}}}]
                    retries: {attempts: 1, retryOn: "cancelled,deadline-exceeded,internal,resource-exhausted,unavailable"}
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    timeout: 3s
                """));
        assertEquals(RetryPolicy.builder().numRetries(4).perTryTimeout(Duration.ofMillis(1500))
                .retryOn(RetryOn.GATEWAY_ERROR, RetryOn.RETRIABLE_4XX, RetryOn.RETRIABLE_STATUS_CODES)
                .retriableStatusCodes(Set.of(409)).baseInterval(Duration.ofMillis(10)).maxInterval(Duration.ofMillis(100))
                .build(), action(c, 0).retryPolicy());
        assertNull(action(c, 1).retryPolicy(), "attempts 0 disables retries");
        assertNull(action(c, 2).retryPolicy(), "no attempts is attempts 0, as Istio");
        assertEquals(Set.of(RetryOn.GRPC_CANCELLED, RetryOn.GRPC_DEADLINE_EXCEEDED, RetryOn.GRPC_INTERNAL,
                RetryOn.GRPC_RESOURCE_EXHAUSTED, RetryOn.GRPC_UNAVAILABLE), action(c, 3).retryPolicy().retryOn());
        assertEquals(Set.of(), action(c, 3).retryPolicy().retriableStatusCodes(), "retryOn replaces Istio's 503");
        assertEquals(RetryPolicy.ISTIO_DEFAULT, action(c, 4).retryPolicy());
        assertEquals(Duration.ofSeconds(3), action(c, 4).timeout());
    }

    @Test
    void badRetryOnTokensAreReportedAtTheirColumn() {
        assertEquals(List.of(
                "case.yaml:8:30: unknown retryOn condition 'conect-failure' (did you mean 'connect-failure'?);"
                        + " meshproxy knows 5xx, gateway-error, reset, connect-failure, refused-stream, retriable-4xx,"
                        + " retriable-status-codes, cancelled, deadline-exceeded, internal, resource-exhausted,"
                        + " unavailable and HTTP status codes",
                "case.yaml:8:45: '999' in 'retryOn' is not an HTTP status code (100..599)",
                "case.yaml:10:24: retryOn condition 'envoy-ratelimited' is not supported yet",
                "case.yaml:12:30: 'perTryTimeout' must be more than 0"), errors(vs("""
                  http:
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    retries: {retryOn: "5xx, conect-failure,999", attempts: 2}
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    retries: {retryOn: envoy-ratelimited, attempts: 2}
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    retries: {perTryTimeout: 0s, attempts: 2}
                """)));
    }

    @Test
    void faultsBecomeAFaultPolicy() throws Exception {
        ProxyConfig c = load(PROXY, vs("""
                  http:
                  - match: [{headers: {x-fault: {exact: grpc}}}]
                    route: [{destination: {host: reviews, port: {number: 9080}}}]
                    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 0.5}}}
                  - match: [{headers: {x-fault: {exact: both}}}]
                    route: [{destination: {host: reviews, port: {number: 9080}}}]
                    fault:
                      delay: {fixedDelay: 100ms, percentage: {value: 100}}
                      abort: {httpStatus: 429}
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                """));
        assertEquals(new FaultPolicy(null, FaultPolicy.Abort.grpc(14, 0.5)), action(c, 0).fault());
        assertEquals(new FaultPolicy(new FaultPolicy.Delay(Duration.ofMillis(100), 100),
                FaultPolicy.Abort.http(429, 0)), action(c, 1).fault(), "no percentage: no request is aborted");
        assertNull(action(c, 2).fault());
    }

    @Test
    void deprecatedIntegerPercentIsAcceptedWithAWarning() throws Exception {
        LoadedConfig loaded = ConfigLoader.loadSources(List.of(new ConfigSource("proxy.yaml", PROXY),
                new ConfigSource("reviews.yaml", REVIEWS), new ConfigSource("case.yaml", vs("""
                  http:
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    fault: {delay: {fixedDelay: 1s, percent: 30}}
                """))));
        assertEquals(new FaultPolicy(new FaultPolicy.Delay(Duration.ofSeconds(1), 30), null),
                action(loaded.config(), 0).fault());
        assertEquals(List.of("case.yaml:8:37: 'percent' is deprecated: write 'percentage: {value: 30}' instead"),
                loaded.warnings().stream().map(ConfigError::toString).toList());
    }

    @Test
    void faultMistakesAreReportedAtTheirPlace() {
        assertEquals(List.of(
                "case.yaml:8:57: 'value' must be in 0..100, was -5",
                "case.yaml:10:58: 'value' must be in 0..100, was 100.5",
                "case.yaml:12:33: 'grpcStatus' must be a gRPC status name such as UNAVAILABLE, was 'UNAVAILBLE'"
                        + " (did you mean 'UNAVAILABLE'?)",
                "case.yaml:14:20: an abort takes only one of 'httpStatus' and 'grpcStatus'",
                "case.yaml:16:12: a fault needs 'delay' or 'abort'",
                "case.yaml:18:33: 'httpStatus' must be in 200..599, was 700",
                "case.yaml:20:5: 'fault' applies to 'route' only"), errors(vs("""
                  http:
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    fault: {delay: {fixedDelay: 1s, percentage: {value: -5}}}
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    fault: {abort: {httpStatus: 503, percentage: {value: 100.5}}}
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    fault: {abort: {grpcStatus: UNAVAILBLE}}
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    fault: {abort: {httpStatus: 503, grpcStatus: INTERNAL}}
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    fault: {}
                  - route: [{destination: {host: reviews, port: {number: 9080}}}]
                    fault: {abort: {httpStatus: 700}}
                  - directResponse: {status: 200}
                    fault: {abort: {httpStatus: 503}}
                """)));
    }

    // ------------------------------------------------------------------ meshproxy extensions

    static final String EXTENDED = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: sidecar, namespace: default}
            spec:
              listeners:
              - name: outbound
                port: 0
                direction: OUTBOUND
                streamIdleTimeout: 30s
                localRateLimit: {maxTokens: 100, tokensPerFill: 10, fillInterval: 100ms}
              destinations:
              - host: reviews
                circuitBreaker: {failureRateThreshold: 25.5, slowCallRateThreshold: 80, slowCallDuration: 2s,
                                 slidingWindowSize: 20, minimumNumberOfCalls: 10, waitInOpenState: 15s,
                                 permittedCallsInHalfOpenState: 3}
                healthCheck: {path: /ready, host: reviews.local, interval: 2s, timeout: 500ms, healthyThreshold: 2,
                              unhealthyThreshold: 4}
                retryBudget: {budgetPercent: 12.5, minRetryConcurrency: 1}
              localRateLimits:
              - {virtualService: reviews, route: api, maxTokens: 5, fillInterval: 1s}
              - {virtualService: reviews, maxTokens: 50, tokensPerFill: 5, fillInterval: 1s}
            """;

    @Test
    void proxyExtensionsApplyToEveryClusterOfTheirHost() throws Exception {
        ProxyConfig c = load(EXTENDED, vs("""
                  http:
                  - name: api
                    match: [{uri: {prefix: /api}}]
                    route: [{destination: {host: reviews, port: {number: 9080}}}]
                  - name: rest
                    route: [{destination: {host: reviews, port: {number: 9080}}}]
                """), dr("""
                  subsets:
                  - {name: v1, labels: {version: v1}}
                """));
        ListenerConfig l = c.listeners().get(0);
        assertEquals(Duration.ofSeconds(30), l.streamIdleTimeout());
        assertEquals(new LocalRateLimit(100, 10, Duration.ofMillis(100)), l.localRateLimit());
        FailureRateBreaker breaker = new FailureRateBreaker(25.5f, 80, Duration.ofSeconds(2), 20, 10,
                Duration.ofSeconds(15), 3);
        HealthCheck hc = new HealthCheck("/ready", "reviews.local", Duration.ofSeconds(2), Duration.ofMillis(500), 2, 4);
        for (String name : List.of("outbound|9080||", "outbound|9090||", "outbound|9080|v1|", "outbound|9090|v1|")) {
            ClusterConfig cluster = c.cluster(name + H);
            assertEquals(breaker, cluster.failureRateBreaker(), name);
            assertEquals(hc, cluster.healthCheck(), name);
            assertEquals(CircuitBreakers.UNLIMITED.withRetryBudget(new RetryBudget(12.5, 1)), cluster.circuitBreakers());
        }
        assertEquals(new LocalRateLimit(5, 5, Duration.ofSeconds(1)), action(c, 0).rateLimit(), "the route's own");
        assertEquals(new LocalRateLimit(50, 5, Duration.ofSeconds(1)), action(c, 1).rateLimit(), "the VS-wide one");
    }

    @Test
    void extensionDefaults() throws Exception {
        ProxyConfig c = load("""
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: sidecar}
                spec:
                  listeners:
                  - {name: outbound, port: 0, direction: OUTBOUND}
                  destinations:
                  - {host: reviews.default.svc.cluster.local, circuitBreaker: {}, healthCheck: {}, retryBudget: {}}
                """);
        ClusterConfig cluster = c.cluster("outbound|9080||" + H);
        assertEquals(FailureRateBreaker.builder().build(), cluster.failureRateBreaker());
        assertEquals(new HealthCheck(null, null, null, null, 1, 3), cluster.healthCheck());
        assertEquals(RetryBudget.DEFAULT, cluster.circuitBreakers().retryBudget());
        assertEquals(ListenerConfig.DEFAULT_STREAM_IDLE_TIMEOUT, c.listeners().get(0).streamIdleTimeout());
        assertNull(c.listeners().get(0).localRateLimit());
    }

    @Test
    void extensionMistakesAreReportedAtTheirPlace() {
        assertEquals(List.of(
                "proxy.yaml:9:21: missing required field 'maxTokens' in 'localRateLimit'",
                "proxy.yaml:9:54: 'fillInterval' must be a duration such as 10s, 1.5s, 250ms or 1m, was 'soon'",
                "proxy.yaml:11:11: destinations host 'ratings' matches no ServiceEntry host",
                "proxy.yaml:12:11: destinations host 'reviewz' matches no ServiceEntry host",
                "proxy.yaml:13:44: 'failureRateThreshold' must be more than 0 and at most 100, was 0",
                "proxy.yaml:14:25: 'path' must start with '/', was 'ready'",
                "proxy.yaml:15:34: 'budgetPercent' must be in 0..100, was 120",
                "proxy.yaml:17:22: no VirtualService named 'reviws'",
                "proxy.yaml:18:59: 'fillInterval' must be at least 1ms, was '100us'"),
                proxyErrors("""
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: sidecar}
                spec:
                  listeners:
                  - name: outbound
                    port: 0
                    direction: OUTBOUND
                    localRateLimit: {tokensPerFill: 1, fillInterval: soon}
                  destinations:
                  - host: ratings
                  - host: reviewz
                    circuitBreaker: {failureRateThreshold: 0}
                    healthCheck: {path: ready}
                    retryBudget: {budgetPercent: 120}
                  localRateLimits:
                  - {virtualService: reviws, maxTokens: 1, fillInterval: 1s}
                  - {virtualService: reviews, maxTokens: 1, fillInterval: 100us}
                """));
    }

    @Test
    void unknownRouteOfARateLimitIsReported() {
        assertEquals(List.of("proxy.yaml:8:38: VirtualService 'reviews' has no http route named 'apii' (it has api)"
                + " (did you mean 'api'?)"), errorsOf(List.of(new ConfigSource("proxy.yaml", PROXY + """
                  localRateLimits:
                  - {virtualService: reviews, route: apii, maxTokens: 1, fillInterval: 1s}
                """), new ConfigSource("reviews.yaml", REVIEWS), new ConfigSource("case.yaml", vs("""
                  http:
                  - name: api
                    route: [{destination: {host: reviews, port: {number: 9080}}}]
                """)))));
    }
}
