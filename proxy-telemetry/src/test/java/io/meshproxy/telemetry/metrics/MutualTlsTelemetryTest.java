package io.meshproxy.telemetry.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ConnectionPoolConfig;
import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.Telemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.WorkloadInfo;
import io.meshproxy.tls.DevCa;
import io.meshproxy.tls.HandshakeStats;
import io.meshproxy.tls.MeshTransportSecurity;
import io.meshproxy.tls.TlsOptions;
import io.meshproxy.tls.WorkloadIdentity;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's telemetry over real mTLS: two meshproxies as two sidecars (A: frontend, OUTBOUND ISTIO_MUTUAL; B:
 * reviews, INBOUND PERMISSIVE plus a STRICT listener), BoringSSL, certificates from the development CA. The
 * scrapes carry the SPIFFE principals and {@code connection_security_policy} as Istio writes them, the access
 * logs the peers' URIs, and Envoy's listener and cluster {@code ssl.*} counters agree with proxy-tls's own
 * handshake statistics.
 */
class MutualTlsTelemetryTest {
    static final String TD = "cluster.local";
    static final String FRONTEND = "spiffe://cluster.local/ns/production/sa/frontend";
    static final String REVIEWS = "spiffe://cluster.local/ns/production/sa/reviews";
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A proxy with its telemetry, wired as the sidecar wires them. */
    record Side(Telemetry telemetry, MeshProxy proxy) implements AutoCloseable {
        static Side start(ProxyConfig config, TelemetryConfig telemetryConfig, MeshTransportSecurity security) {
            Telemetry t = Telemetry.create(telemetryConfig, null);
            MeshProxy.Builder b = MeshProxy.builder().config(config).transportSecurity(security)
                    .eventListener(t.listener());
            t.adminEndpoints().forEach(b::adminEndpoint);
            MeshProxy p = b.build().start();
            t.bindClusters(p::clusters);
            return new Side(t, p);
        }

        String admin(String path) throws IOException, InterruptedException {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxy.adminPort() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), path + ": " + r.body());
            return r.body();
        }

        PromText scrape() throws IOException, InterruptedException {
            return PromText.parse(admin("/stats/prometheus"));
        }

        @Override
        public void close() {
            proxy.close();
            telemetry.close();
        }
    }

    MeshTransportSecurity security(DevCa ca, String name, String serviceAccount) throws Exception {
        Path w = ca.workload("production", serviceAccount).issue().writeTo(dir.resolve(name));
        return new MeshTransportSecurity(WorkloadIdentity.load(w.resolve("cert-chain.pem"), w.resolve("key.pem"),
                w.resolve("root-cert.pem"), TD), TlsOptions.defaults());
    }

    static TelemetryConfig telemetry(WorkloadInfo workload, Map<String, String> reporters, Path accessLog) {
        return new TelemetryConfig(workload, reporters, null, null,
                new TelemetryConfig.AccessLog(accessLog.toString(), 100, true, 1024));
    }

    static Predicate<PromText.Sample> labels(String... keyValues) {
        return s -> {
            for (int i = 0; i < keyValues.length; i += 2) {
                if (!keyValues[i + 1].equals(s.label(keyValues[i]))) {
                    return false;
                }
            }
            return true;
        };
    }

    static List<JsonNode> accessLog(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    static JsonNode awaitLine(Path file, String path) {
        return await().atMost(Duration.ofSeconds(10)).until(
                () -> accessLog(file).stream().filter(l -> path.equals(l.path("path").asText())).findFirst(),
                java.util.Optional::isPresent).orElseThrow();
    }

    @Test
    void principalsSecurityPolicyAndHandshakeCountersOverRealMutualTls() throws Exception {
        DevCa ca = DevCa.create(TD);
        MeshTransportSecurity reviewsTls = security(ca, "b", "reviews");
        MeshTransportSecurity frontendTls = security(ca, "a", "frontend");
        Path logA = dir.resolve("a.log");
        Path logB = dir.resolve("b.log");
        int n = 12;
        int plaintext = 3;
        try (TestUpstream app = TestUpstream.start("reviews-app");
             Side b = Side.start(ProxyConfig.builder()
                             .listener(ListenerConfig.builder().name("inbound").port(0)
                                     .tlsMode(DownstreamTlsMode.PERMISSIVE).routes(Configs.allTo("app")).build())
                             .listener(ListenerConfig.builder().name("strict").port(0)
                                     .tlsMode(DownstreamTlsMode.STRICT).routes(Configs.allTo("app")).build())
                             .cluster(Configs.cluster("app", UpstreamProtocol.HTTP1, app))
                             .admin(new AdminConfig("127.0.0.1", 0))
                             .build(),
                     telemetry(new WorkloadInfo("reviews-v1", "production", "reviews", "v1", "reviews", null),
                             Map.of("inbound", "destination", "strict", "destination"), logB),
                     reviewsTls);
             Side a = Side.start(ProxyConfig.builder()
                             .listener(ListenerConfig.builder().name("outbound").port(0)
                                     .routes(Configs.allTo("reviews")).build())
                             // one request per upstream connection: every request is a handshake, most resumed
                             .cluster(ClusterConfig.builder().name("reviews").protocol(UpstreamProtocol.HTTP1)
                                     .endpoint("127.0.0.1", b.proxy().listenerPort("inbound"))
                                     .connectionPool(new ConnectionPoolConfig(1, 0, null))
                                     .tls(UpstreamTls.ISTIO_MUTUAL).build())
                             .admin(new AdminConfig("127.0.0.1", 0))
                             .build(),
                     telemetry(new WorkloadInfo("frontend-v1", "production", "frontend", "v1", "frontend", null),
                             Map.of("outbound", "source"), logA),
                     frontendTls)) {
            try (RawHttp c = new RawHttp(a.proxy().listenerPort("outbound"))) {
                for (int i = 0; i < n; i++) {
                    assertEquals(200, c.send("GET /mtls/" + i + " HTTP/1.1\r\nHost: reviews\r\n\r\n").read().status());
                }
            }
            try (RawHttp c = new RawHttp(b.proxy().listenerPort("inbound"))) {
                for (int i = 0; i < plaintext; i++) {
                    assertEquals(200, c.send("GET /plain/" + i + " HTTP/1.1\r\nHost: reviews\r\n\r\n").read().status());
                }
            }
            try (RawHttp c = new RawHttp(b.proxy().listenerPort("strict"))) {
                c.send("GET /refused HTTP/1.1\r\nHost: reviews\r\n\r\n");
                assertTrue(c.closedByPeer(), "STRICT refuses plaintext");
            }

            // B, the destination: the caller's and its own principal, mutual_tls; plaintext is none
            PromText sb = b.scrape();
            assertEquals(n, sb.sum("istio_requests_total", labels("reporter", "destination",
                    "source_principal", FRONTEND, "destination_principal", REVIEWS,
                    "connection_security_policy", "mutual_tls", "response_code", "200")), sb.toString());
            assertEquals(plaintext, sb.sum("istio_requests_total", labels("reporter", "destination",
                    "source_principal", "unknown", "destination_principal", "unknown",
                    "connection_security_policy", "none")));
            assertEquals(n + plaintext, sb.sum("istio_requests_total"), "no other series");
            assertEquals(n, sb.sum("istio_request_duration_milliseconds_count", labels(
                    "source_principal", FRONTEND, "connection_security_policy", "mutual_tls")));

            // A, the source: its own principal, the upstream's from its certificate, unknown policy (as Istio)
            PromText sa = a.scrape();
            assertEquals(n, sa.sum("istio_requests_total", labels("reporter", "source",
                    "source_principal", FRONTEND, "destination_principal", REVIEWS,
                    "connection_security_policy", "unknown")));
            assertEquals(n, sa.sum("istio_requests_total"), "no other series");

            // Envoy's listener TLS counters on B agree with proxy-tls's own statistics: full vs resumed
            HandshakeStats.Snapshot server = reviewsTls.serverStats().snapshot();
            double handshakes = sb.sum("envoy_listener_ssl_handshake", labels("listener_name", "inbound"));
            double reused = sb.sum("envoy_listener_ssl_session_reused", labels("listener_name", "inbound"));
            assertEquals(n, handshakes, "one handshake per upstream connection");
            assertEquals(server.resumed(), reused, "resumed as proxy-tls counted: " + server);
            assertTrue(reused >= 1 && reused < handshakes, "the first is full, later ones resume: " + reused);
            assertEquals(0, sb.sum("envoy_listener_ssl_connection_error", labels("listener_name", "inbound")));
            await().atMost(Duration.ofSeconds(10)).until(() -> b.scrape().sum("envoy_listener_ssl_connection_error",
                    labels("listener_name", "strict")) == 1);
            assertEquals("counter", sb.types.get("envoy_listener_ssl_handshake"));

            // ... and the cluster TLS counters on A with its client-side statistics
            HandshakeStats.Snapshot client = frontendTls.clientStats().snapshot();
            assertEquals(n, sa.sum("envoy_cluster_ssl_handshake", labels("cluster_name", "reviews")));
            assertEquals(client.resumed(), sa.sum("envoy_cluster_ssl_session_reused", labels("cluster_name", "reviews")));
            assertEquals(0, sa.sum("envoy_cluster_ssl_connection_error", labels("cluster_name", "reviews")));

            // /stats, Envoy's plain form
            String plainB = b.admin("/stats?filter=ssl");
            assertTrue(plainB.contains("listener.inbound.ssl.handshake: " + n), plainB);
            assertTrue(plainB.contains("listener.strict.ssl.connection_error: 1"), plainB);

            // access logs: the peers' SPIFFE URIs
            JsonNode atB = awaitLine(logB, "/mtls/0");
            assertEquals(FRONTEND, atB.path("downstream_peer_principal").asText());
            assertEquals("unknown", atB.path("upstream_peer_principal").asText(), "B's app is plaintext");
            assertEquals("unknown", awaitLine(logB, "/plain/0").path("downstream_peer_principal").asText());
            JsonNode atA = awaitLine(logA, "/mtls/0");
            assertEquals("unknown", atA.path("downstream_peer_principal").asText(), "the app talks plaintext to A");
            assertEquals(REVIEWS, atA.path("upstream_peer_principal").asText());
        }
    }
}
