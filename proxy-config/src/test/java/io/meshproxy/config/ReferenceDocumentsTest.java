package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Istio YAML of the reference documents (../shared/seeds/), copied verbatim into src/test/resources/reference:
 * the user-service canary routes as documented; the payment-service DestinationRule's mistakes (fields under
 * the wrong parent, a misspelt keep-alive) are caught with their places, which Istio would not do; the
 * cross-cluster ServiceEntry loads.
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

    @Test
    void paymentServiceDestinationRuleMistakesAreCaught(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), PROXY);
        Files.writeString(dir.resolve("payment-service-entry.yaml"), """
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
                """);
        Path dr = copy("payment-service-dr.yaml", dir);
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> ConfigLoader.load(dir));
        List<String> errors = e.errors().stream().map(ConfigError::toString).toList();
        String f = dr.toString();
        assertEquals(List.of(
                f + ":11:9: 'maxConnections' is not supported yet (comes with upstream resilience)",
                f + ":13:9: unknown field 'keepAlive' in 'tcp' (did you mean 'tcpKeepalive'?)",
                f + ":17:9: 'http1MaxPendingRequests' is not supported yet (comes with upstream resilience)",
                f + ":18:9: 'http2MaxRequests' is not supported yet (comes with upstream resilience)",
                f + ":19:9: 'maxRequestsPerConnection' is not supported yet (comes with upstream resilience)",
                f + ":20:9: 'maxRetries' is not supported yet (comes with upstream resilience)",
                f + ":21:9: unknown field 'consecutiveGatewayErrors' in 'http' (it belongs in 'outlierDetection')",
                f + ":22:9: unknown field 'interval' in 'http' (it belongs in 'outlierDetection')",
                f + ":23:9: unknown field 'baseEjectionTime' in 'http' (it belongs in 'outlierDetection')",
                f + ":24:9: unknown field 'maxEjectionPercent' in 'http' (it belongs in 'outlierDetection')",
                f + ":25:9: unknown field 'minHealthPercent' in 'http' (it belongs in 'outlierDetection')",
                f + ":28:5: 'outlierDetection' is not supported yet (comes with upstream resilience)",
                f + ":43:11: 'maxConnections' is not supported yet (comes with upstream resilience)",
                f + ":45:11: 'http2MaxRequests' is not supported yet (comes with upstream resilience)",
                f + ":53:11: 'maxConnections' is not supported yet (comes with upstream resilience)",
                f + ":55:11: 'http2MaxRequests' is not supported yet (comes with upstream resilience)"), errors);
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
