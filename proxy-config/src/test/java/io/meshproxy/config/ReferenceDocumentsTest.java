package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.FaultPolicy;
import io.meshproxy.core.config.HeaderMatcher;
import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.RetryBudget;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Istio YAML of the reference documents (../shared/seeds/), copied verbatim into src/test/resources/reference:
 * the user-service canary routes as documented; the payment-service DestinationRule's mistakes (fields under
 * the wrong parent, a misspelt keep-alive) are caught with their places in STRICT mode, which Istio would not
 * do, and in WARN mode dropped with a warning each (as the Kubernetes API server prunes them), so the rule, the
 * high-performance-service VirtualService (retries) and the chaos-testing one (faults) load and translate as
 * istiod translates them; the cross-cluster ServiceEntry loads.
 */
class ReferenceDocumentsTest {
    static final String PROXY = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: frontend, namespace: default}
            spec:
              listeners:
              - {name: outbound, port: 0, direction: OUTBOUND}
            """;

    static Path copy(String resource, Path dir) throws Exception {
        try (var in = ReferenceDocumentsTest.class.getResourceAsStream("/reference/" + resource)) {
            Path target = dir.resolve(resource);
            Files.write(target, in.readAllBytes());
            return target;
        }
    }

    @Test
    void userServiceCanaryRoutesAsDocumented(@TempDir Path dir) throws Exception {
        try (TestUpstream v1 = TestUpstream.start("user-v1"); TestUpstream v2 = TestUpstream.start("user-v2")) {
            Files.writeString(dir.resolve("proxy.yaml"), PROXY);
            Files.writeString(dir.resolve("user-service-entry.yaml"), """
                    apiVersion: networking.istio.io/v1
                    kind: ServiceEntry
                    metadata: {name: user-service}
                    spec:
                      hosts: [user-service.default.svc.cluster.local]
                      ports: [{number: 8080, name: http, protocol: HTTP}]
                      resolution: STATIC
                      endpoints:
                      - {address: 127.0.0.1, ports: {http: %d}, labels: {app: user-service, version: v1}}
                      - {address: 127.0.0.1, ports: {http: %d}, labels: {app: user-service, version: v2}}
                    """.formatted(v1.port(), v2.port()));
            copy("user-service-canary.yaml", dir);
            MeshProxy proxy = MeshProxy.builder().config(ConfigLoader.load(dir).config()).build().start();
            try (RawHttp c = new RawHttp(proxy.listenerPort("outbound"))) {
                Map<String, Integer> landed = new TreeMap<>();
                for (int i = 0; i < 2000; i++) {
                    RawHttp.Response r = c.send("GET /users/" + i + " HTTP/1.1\r\nHost: user-service:8080\r\n\r\n").read();
                    assertEquals(200, r.status());
                    landed.merge(r.headers().get("x-upstream"), 1, Integer::sum);
                }
                int toV1 = landed.getOrDefault("user-v1", 0);
                assertTrue(toV1 >= 1740 && toV1 <= 1860, "v1 90% ± 3 points: " + landed);
                for (int i = 0; i < 20; i++) {
                    RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: user-service\r\ncanary: true\r\n\r\n").read();
                    assertEquals("user-v2", r.headers().get("x-upstream"));
                }
            } finally {
                proxy.close();
            }
        }
    }

    static final String PAYMENT_ENTRY = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: payment-service}
            spec:
              hosts: [payment-service.default.svc.cluster.local]
              ports: [{number: 8080, name: http, protocol: HTTP}]
              resolution: STATIC
              endpoints:
              - {address: 127.0.0.1, ports: {http: 18080}, labels: {version: stable}}
              - {address: 127.0.0.2, ports: {http: 18080}, labels: {version: canary}}
            """;

    static final String ORDER_ENTRY = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: order-service}
            spec:
              hosts: [order-service.default.svc.cluster.local]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: STATIC
              endpoints:
              - {address: 127.0.0.1, ports: {http: 18081}}
            """;

    @Test
    void paymentServiceDestinationRuleMistakesAreCaught(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), PROXY);
        Files.writeString(dir.resolve("payment-service-entry.yaml"), PAYMENT_ENTRY);
        Path dr = copy("payment-service-dr.yaml", dir);
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> ConfigLoader.load(dir));
        List<String> errors = e.errors().stream().map(ConfigError::toString).toList();
        assertEquals(misplacedFieldsOf(dr.toString()), errors);
    }

    /** The mistakes of the reference DestinationRule: a misspelt keep-alive, outlier fields under 'http'. */
    static List<String> misplacedFieldsOf(String f) {
        return List.of(
                f + ":13:9: unknown field 'keepAlive' in 'tcp' (did you mean 'tcpKeepalive'?)",
                f + ":21:9: unknown field 'consecutiveGatewayErrors' in 'http' (it belongs in 'outlierDetection')",
                f + ":22:9: unknown field 'interval' in 'http' (it belongs in 'outlierDetection')",
                f + ":23:9: unknown field 'baseEjectionTime' in 'http' (it belongs in 'outlierDetection')",
                f + ":24:9: unknown field 'maxEjectionPercent' in 'http' (it belongs in 'outlierDetection')",
                f + ":25:9: unknown field 'minHealthPercent' in 'http' (it belongs in 'outlierDetection')");
    }

    @Test
    void inWarnModeThePaymentServiceDocumentsLoadAsIstioDocuments(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), PROXY);
        Files.writeString(dir.resolve("payment-service-entry.yaml"), PAYMENT_ENTRY);
        Path dr = copy("payment-service-dr.yaml", dir);
        copy("high-performance-service-vs.yaml", dir);
        LoadedConfig loaded = ConfigLoader.load(List.of(dir), FieldValidation.WARN);
        assertEquals(misplacedFieldsOf(dr.toString()), loaded.warnings().stream().map(ConfigError::toString).toList());
        ProxyConfig config = loaded.config();

        String host = "payment-service.default.svc.cluster.local";
        ClusterConfig all = config.cluster("outbound|8080||" + host);
        assertEquals(new CircuitBreakers(100, 64, 1000, 3, RetryBudget.DEFAULT), all.circuitBreakers());
        assertEquals(10, all.connectionPool().maxRequestsPerConnection());
        assertEquals(Duration.ofSeconds(5), all.connectTimeout());
        assertEquals(null, all.connectionPool().tcpKeepalive(), "the misspelt keepAlive is dropped");
        OutlierDetection outlier = OutlierDetection.builder().consecutive5xxErrors(3).consecutiveGatewayErrors(3)
                .interval(Duration.ofSeconds(30)).baseEjectionTime(Duration.ofSeconds(30)).maxEjectionPercent(50)
                .minHealthPercent(50).build();
        assertEquals(outlier, all.outlierDetection());

        // Istio: a subset's connectionPool replaces the rule's whole; its outlierDetection is inherited.
        ClusterConfig stable = config.cluster("outbound|8080|stable|" + host);
        assertEquals(CircuitBreakers.UNLIMITED.withMaxConnections(200).withMaxRequests(2000), stable.circuitBreakers());
        assertEquals(outlier, stable.outlierDetection());
        assertEquals(ClusterConfig.DEFAULT_CONNECT_TIMEOUT, stable.connectTimeout());
        assertEquals(List.of("127.0.0.1"), stable.endpoints().stream().map(EndpointConfig::address).toList());
        ClusterConfig canary = config.cluster("outbound|8080|canary|" + host);
        assertEquals(CircuitBreakers.UNLIMITED.withMaxConnections(50).withMaxRequests(500), canary.circuitBreakers());
        assertEquals(outlier, canary.outlierDetection());

        List<Route> routes = routes(config, host + ":8080");
        assertEquals(2, routes.size());
        RouteAction canaryRoute = (RouteAction) routes.get(0).action();
        assertEquals("outbound|8080|canary|" + host, canaryRoute.clusters().get(0).cluster());
        assertEquals(Duration.ofSeconds(30), canaryRoute.timeout());
        assertEquals(RetryPolicy.builder().numRetries(3).perTryTimeout(Duration.ofSeconds(10))
                .retryOn(RetryOn.FIVE_XX, RetryOn.RESET, RetryOn.CONNECT_FAILURE).build(), canaryRoute.retryPolicy());
        assertEquals("5xx,reset,connect-failure", canaryRoute.retryPolicy().retryOnTokens());
        RouteAction stableRoute = (RouteAction) routes.get(1).action();
        assertEquals("outbound|8080|stable|" + host, stableRoute.clusters().get(0).cluster());
        assertEquals(Duration.ofSeconds(30), stableRoute.timeout());
        // attempts without retryOn: Istio's default conditions (and its 503) with these attempts.
        assertEquals(RetryPolicy.builder().numRetries(3).perTryTimeout(Duration.ofSeconds(10))
                .retryOn(RetryPolicy.ISTIO_DEFAULT.retryOn()).retriableStatusCodes(Set.of(503)).build(),
                stableRoute.retryPolicy());
        assertEquals(null, stableRoute.fault());
    }

    @Test
    void inWarnModeTheChaosTestingFaultsLoad(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), PROXY);
        Files.writeString(dir.resolve("order-service-entry.yaml"), ORDER_ENTRY);
        copy("chaos-testing-vs.yaml", dir);
        LoadedConfig loaded = ConfigLoader.load(List.of(dir), FieldValidation.WARN);
        assertEquals(List.of(), loaded.warnings());
        List<Route> routes = routes(loaded.config(), "order-service.default.svc.cluster.local:80");
        assertEquals(3, routes.size());
        RouteAction delay = (RouteAction) routes.get(0).action();
        assertEquals(new FaultPolicy(new FaultPolicy.Delay(Duration.ofSeconds(2), 10.0), null), delay.fault());
        assertEquals(HeaderMatcher.Kind.EXACT, routes.get(0).match().headers().get(0).kind());
        assertEquals("delay", routes.get(0).match().headers().get(0).value());
        RouteAction abort = (RouteAction) routes.get(1).action();
        assertEquals(new FaultPolicy(null, FaultPolicy.Abort.http(503, 5.0)), abort.fault());
        RouteAction rest = (RouteAction) routes.get(2).action();
        assertEquals(null, rest.fault());
        // None of them says 'retries': Istio's default policy.
        for (Route r : routes) {
            assertEquals(RetryPolicy.ISTIO_DEFAULT, ((RouteAction) r.action()).retryPolicy());
        }
        // The same documents load in STRICT mode too: they hold no mistake.
        assertEquals(loaded.config(), ConfigLoader.load(dir).config());
    }

    static List<Route> routes(ProxyConfig config, String virtualHost) {
        for (VirtualHost vh : config.listeners().get(0).routes().virtualHosts()) {
            if (vh.name().equals(virtualHost)) {
                return vh.routes();
            }
        }
        throw new AssertionError("no virtual host " + virtualHost);
    }

    @Test
    void crossClusterServiceEntryLoads(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), PROXY);
        copy("payment-service-remote.yaml", dir);
        ClusterConfig c = ConfigLoader.load(dir).config().cluster("outbound|80||payment-service.production.global");
        assertEquals(List.of("payment-service.production.svc.cluster.local:80",
                "payment-service-east.production.svc.cluster.local:80"),
                c.endpoints().stream().map(EndpointConfig::address).map(a -> a + ":80").toList());
    }
}
