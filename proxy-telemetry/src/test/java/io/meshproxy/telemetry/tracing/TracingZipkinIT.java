package io.meshproxy.telemetry.tracing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.Telemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.WorkloadInfo;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tracing against a real Zipkin server (its executable jar from Maven Central, run as a child process), the way
 * Istio traces two services: client → proxy A's OUTBOUND listener (productpage's sidecar, reporter source) →
 * proxy B's INBOUND listener (reviews' sidecar, reporter destination) → the reviews application, which forwards
 * the trace headers on its own call → proxy B's OUTBOUND listener → ratings. The spans are read back from
 * Zipkin's query API.
 */
class TracingZipkinIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    /** What the application forwards, as Istio asks applications to. */
    static final List<String> TRACE_HEADERS = List.of("x-request-id", "traceparent", "tracestate", "b3",
            "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags");

    static Process zipkin;
    static int zipkinPort;

    @BeforeAll
    static void startZipkin() throws Exception {
        String jar = System.getProperty("zipkin.jar");
        assertNotNull(jar, "system property zipkin.jar (set by failsafe in proxy-telemetry/pom.xml)");
        assertTrue(Files.isRegularFile(Path.of(jar)), "no Zipkin server jar at " + jar);
        zipkinPort = freePort();
        File log = new File(new File(jar).getParentFile(), "zipkin-server.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-jar", jar);
        pb.environment().put("QUERY_PORT", Integer.toString(zipkinPort)); // in-memory storage is the default
        pb.redirectErrorStream(true).redirectOutput(log);
        zipkin = pb.start();
        await("Zipkin's /health (log: " + log + ")").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
                .ignoreExceptionsMatching(e -> e instanceof IOException)
                .until(() -> {
                    if (!zipkin.isAlive()) {
                        throw new IllegalStateException("Zipkin exited with " + zipkin.exitValue() + ", see " + log);
                    }
                    return get("/health").statusCode() == 200;
                });
    }

    @AfterAll
    static void stopZipkin() throws InterruptedException {
        if (zipkin != null) {
            zipkin.destroy();
            if (!zipkin.waitFor(20, TimeUnit.SECONDS)) {
                zipkin.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + zipkinPort + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static TelemetryConfig telemetry(WorkloadInfo workload, Map<String, String> reporters) {
        return new TelemetryConfig(workload, reporters, new TelemetryConfig.Metrics(false, null, null, 10_000),
                new TelemetryConfig.Tracing(100, "http://127.0.0.1:" + zipkinPort + "/api/v2/spans", 1_000, null), null);
    }

    static ClusterConfig cluster(String name, int port) {
        return ClusterConfig.builder().name(name).protocol(UpstreamProtocol.HTTP1).endpoint("127.0.0.1", port).build();
    }

    static ListenerConfig listener(String name, String cluster) {
        return ListenerConfig.builder().name(name).port(0).routes(Configs.allTo(cluster)).build();
    }

    @Test
    void everySpanOfATraceThroughTwoProxiesAndTheApplicationReachesZipkinWithItsParentLinks() throws Exception {
        AtomicReference<String> appSaw = new AtomicReference<>();
        int[] reviewsOutboundPort = new int[1];
        ExecutorService appThreads = Executors.newFixedThreadPool(2);
        HttpServer app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        app.setExecutor(appThreads);
        // the reviews application: calls ratings through its sidecar's OUTBOUND listener, forwarding the trace headers
        app.createContext("/", ex -> forward(ex, reviewsOutboundPort[0], appSaw));
        app.start();
        Telemetry productpageTelemetry = Telemetry.create(telemetry(
                new WorkloadInfo("productpage-v1", "bookinfo", "productpage", "v1", null, null),
                Map.of("outbound", "source")), null);
        Telemetry reviewsTelemetry = Telemetry.create(telemetry(
                new WorkloadInfo("reviews-v2", "bookinfo", "reviews", "v2", null, null),
                Map.of("inbound", "destination", "outbound", "source")), null);
        try (TestUpstream ratings = TestUpstream.start("ratings");
             MeshProxy reviewsSidecar = MeshProxy.builder().eventListener(reviewsTelemetry.listener())
                     .config(ProxyConfig.builder()
                             .listener(listener("inbound", "inbound|9080||reviews"))
                             .listener(listener("outbound", "outbound|9080||ratings"))
                             .cluster(cluster("inbound|9080||reviews", app.getAddress().getPort()))
                             .cluster(cluster("outbound|9080||ratings", ratings.port()))
                             .admin(new AdminConfig("127.0.0.1", 0)).build())
                     .build().start();
             MeshProxy productpageSidecar = MeshProxy.builder().eventListener(productpageTelemetry.listener())
                     .config(ProxyConfig.builder()
                             .listener(listener("outbound", "outbound|9080||reviews"))
                             .cluster(cluster("outbound|9080||reviews", reviewsSidecar.listenerPort("inbound")))
                             .admin(new AdminConfig("127.0.0.1", 0)).build())
                     .build().start()) {
            reviewsOutboundPort[0] = reviewsSidecar.listenerPort("outbound");

            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + productpageSidecar.listenerPort("outbound") + "/reviews/0")).timeout(Duration.ofSeconds(20))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            Map<String, String> atRatings = headerLines(r.body()); // ratings echoes the headers it received
            String traceparent = atRatings.get("traceparent");
            assertNotNull(traceparent, r.body());
            String traceId = traceparent.substring(3, 35);
            assertTrue(traceparent.endsWith("-01"), "sampled: " + traceparent);

            // every span reaches Zipkin: exported asynchronously, read back from its API
            JsonNode[] trace = new JsonNode[1];
            await("3 spans of trace " + traceId).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        HttpResponse<String> t = get("/api/v2/trace/" + traceId);
                        if (t.statusCode() != 200) {
                            return false;
                        }
                        trace[0] = JSON.readTree(t.body());
                        return trace[0].size() >= 3;
                    });
            assertEquals(3, trace[0].size(), trace[0].toPrettyString());
            Map<String, JsonNode> byKey = new HashMap<>();
            for (JsonNode s : trace[0]) {
                assertEquals(traceId, s.get("traceId").asText(), "one trace id everywhere");
                byKey.put(s.get("localEndpoint").get("serviceName").asText() + " " + s.get("kind").asText(), s);
            }
            JsonNode client = byKey.get("productpage CLIENT");
            JsonNode server = byKey.get("reviews SERVER");
            JsonNode appClient = byKey.get("reviews CLIENT");
            assertNotNull(client, trace[0].toPrettyString());
            assertNotNull(server, trace[0].toPrettyString());
            assertNotNull(appClient, trace[0].toPrettyString());

            // the chain: productpage's client span → reviews' server span → the application's outgoing client span
            assertNull(client.get("parentId"), "the trace starts at productpage's sidecar");
            assertEquals(client.get("id").asText(), server.get("parentId").asText());
            assertEquals(server.get("id").asText(), appClient.get("parentId").asText());
            assertEquals("00-" + traceId + "-" + appClient.get("id").asText() + "-01", traceparent,
                    "ratings' parent is the last hop's span");
            assertEquals(traceId, atRatings.get("x-b3-traceid"));
            assertEquals(appClient.get("id").asText(), atRatings.get("x-b3-spanid"));
            assertEquals(server.get("id").asText(), atRatings.get("x-b3-parentspanid"));
            assertEquals("1", atRatings.get("x-b3-sampled"));
            Map<String, String> sawAtApp = headerLines(appSaw.get());
            assertEquals("00-" + traceId + "-" + server.get("id").asText() + "-01", sawAtApp.get("traceparent"),
                    "the application is called with the inbound hop's span as parent");

            String requestId = atRatings.get("x-request-id");
            assertNotNull(requestId);
            assertEquals(requestId, sawAtApp.get("x-request-id"));
            Map<String, String> clusters = Map.of("productpage CLIENT", "outbound|9080||reviews",
                    "reviews SERVER", "inbound|9080||reviews", "reviews CLIENT", "outbound|9080||ratings");
            for (Map.Entry<String, JsonNode> e : byKey.entrySet()) {
                JsonNode s = e.getValue();
                JsonNode tags = s.get("tags");
                String what = e.getKey() + ": " + s.toPrettyString();
                assertEquals(requestId, tags.get("guid:x-request-id").asText(), what);
                assertEquals("GET", tags.get("http.method").asText(), what);
                assertEquals("HTTP/1.1", tags.get("http.protocol").asText(), what);
                assertEquals("200", tags.get("http.status_code").asText(), what);
                assertEquals("-", tags.get("response_flags").asText(), what);
                assertEquals(clusters.get(e.getKey()), tags.get("upstream_cluster").asText(), what);
                assertEquals(clusters.get(e.getKey()), tags.get("upstream_cluster.name").asText(), what);
                assertEquals("127.0.0.1", tags.get("peer.address").asText(), what);
                assertEquals("unknown", tags.get("peer.principal").asText(), what);
                assertEquals("proxy", tags.get("component").asText(), what);
                assertEquals("bookinfo", tags.get("istio.namespace").asText(), what);
                assertEquals(e.getKey().startsWith("productpage") ? "productpage" : "reviews",
                        tags.get("istio.canonical_service").asText(), what);
                assertFalse(tags.has("error"), what);
                assertTrue(s.get("name").asText().endsWith("/*"), what);
                assertTrue(s.get("duration").asLong() > 0, what);
                assertTrue(tags.get("http.url").asText().startsWith("http://127.0.0.1:"), what);
            }
            assertTrue(server.get("duration").asLong() >= appClient.get("duration").asLong(),
                    "the server hop encloses the application's call");
        } finally {
            productpageTelemetry.close();
            reviewsTelemetry.close();
            app.stop(0);
            appThreads.shutdownNow();
        }
    }

    /** The application's handler: call {@code /headers} on ratings through the sidecar, forwarding trace headers. */
    static void forward(HttpExchange ex, int sidecarOutboundPort, AtomicReference<String> saw) throws IOException {
        try (ex) {
            StringBuilder seen = new StringBuilder();
            HttpRequest.Builder call = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecarOutboundPort
                    + "/headers")).timeout(Duration.ofSeconds(15));
            for (String h : TRACE_HEADERS) {
                String v = ex.getRequestHeaders().getFirst(h);
                if (v != null) {
                    call.header(h, v);
                    seen.append(h).append(": ").append(v).append('\n');
                }
            }
            saw.set(seen.toString());
            byte[] body;
            int status;
            try {
                HttpResponse<byte[]> r = HTTP.send(call.build(), HttpResponse.BodyHandlers.ofByteArray());
                status = r.statusCode();
                body = r.body();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                status = 500;
                body = e.toString().getBytes(StandardCharsets.UTF_8);
            }
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
        }
    }

    /** {@code name: value} lines (TestUpstream's /headers answer) as a map. */
    static Map<String, String> headerLines(String text) {
        Map<String, String> m = new HashMap<>();
        if (text == null) {
            return m;
        }
        for (String line : text.split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0) {
                m.putIfAbsent(line.substring(0, colon).toLowerCase(java.util.Locale.ROOT), line.substring(colon + 2).trim());
            }
        }
        return m;
    }
}
