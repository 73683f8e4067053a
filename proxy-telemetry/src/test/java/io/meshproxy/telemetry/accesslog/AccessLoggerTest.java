package io.meshproxy.telemetry.accesslog;

import static io.meshproxy.telemetry.accesslog.AccessLogTesting.accessLogger;
import static io.meshproxy.telemetry.accesslog.AccessLogTesting.config;
import static io.meshproxy.telemetry.accesslog.AccessLogTesting.lines;
import static io.meshproxy.telemetry.accesslog.AccessLogTesting.proxyConfig;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.Telemetry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Access log lines of real requests through a listener, read back from the log file. */
class AccessLoggerTest {
    private static final HttpClient H1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** Every field of Istio's JSON access log, plus upstream_cluster, route, addresses, principals, attempts. */
    static final Set<String> FIELDS = Set.of("start_time", "method", "path", "protocol", "response_code",
            "response_flags", "response_code_details", "bytes_received", "bytes_sent", "duration",
            "upstream_service_time", "x_forwarded_for", "user_agent", "request_id", "authority", "upstream_host",
            "upstream_cluster", "route_name", "downstream_remote_address", "downstream_local_address",
            "downstream_peer_principal", "upstream_peer_principal", "upstream_request_attempt_count");

    @TempDir
    Path dir;

    private static HttpResponse<String> send(int port, String method, String path, String body,
            Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return H1.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyFieldOfA200A404NRA503UHAndARetriedRequest() throws Exception {
        Path file = dir.resolve("logs/access.log");
        Instant before = Instant.now().minusMillis(1);
        try (TestUpstream good = TestUpstream.start("good");
             TestUpstream bad = TestUpstream.start("bad").answerEverythingWith(503);
             Telemetry telemetry = Telemetry.create(config(file, 100, true, 1024), null)) {
            String goodHost = "127.0.0.1:" + good.port();
            int port;
            try (MeshProxy proxy = MeshProxy.builder().config(proxyConfig(good.port(), bad.port()))
                    .eventListener(telemetry.listener()).eventLoopThreads(1).build().start()) {
                port = proxy.listenerPort("in");
                HttpResponse<String> ok = send(port, "POST", "/echo?x=1", "hello", Map.of(
                        "user-agent", "meshproxy-test/1.0", "x-forwarded-for", "203.0.113.7, 10.0.0.1",
                        "x-request-id", "req-200"));
                assertEquals(200, ok.statusCode());
                assertEquals("hello", ok.body());
                assertEquals(404, send(port, "GET", "/nope", null, Map.of("x-request-id", "req-404")).statusCode());
                assertEquals(503, send(port, "GET", "/uh", null, Map.of("x-request-id", "req-503")).statusCode());
                // round robin over [bad, good]: of two requests at least one starts on bad and is retried on good
                for (String p : List.of("/retry/1", "/retry/2")) {
                    assertEquals(200, send(port, "GET", p, null, Map.of()).statusCode());
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> lines(file).size() == 5);
            }
            Instant after = Instant.now().plusMillis(1);
            Map<String, JsonNode> byPath = new HashMap<>();
            for (JsonNode l : lines(file)) {
                assertEquals(FIELDS, fieldNames(l), l.toString());
                Instant start = Instant.parse(l.get("start_time").asText());
                assertTrue(l.get("start_time").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"),
                        "RFC 3339, milliseconds, UTC: " + l.get("start_time"));
                assertTrue(!start.isBefore(before) && !start.isAfter(after), start + " not in " + before + ".." + after);
                assertEquals("HTTP/1.1", l.get("protocol").asText());
                assertTrue(l.get("duration").isIntegralNumber() && l.get("duration").asLong() >= 0, l.toString());
                assertEquals("unknown", l.get("downstream_peer_principal").asText());
                assertTrue(l.get("downstream_remote_address").asText().startsWith("127.0.0.1:"));
                assertEquals("127.0.0.1:" + port, l.get("downstream_local_address").asText());
                assertEquals("127.0.0.1:" + port, l.get("authority").asText());
                assertTrue(l.get("user_agent").isTextual(), "the JDK client always sends one");
                byPath.put(l.get("path").asText(), l);
            }

            JsonNode ok = byPath.get("/echo?x=1");
            assertEquals("POST", ok.get("method").asText());
            assertEquals(200, ok.get("response_code").asInt());
            assertEquals("-", ok.get("response_flags").asText());
            assertEquals("via_upstream", ok.get("response_code_details").asText());
            assertEquals(5, ok.get("bytes_received").asLong());
            assertEquals(5, ok.get("bytes_sent").asLong());
            assertTrue(ok.get("upstream_service_time").isTextual(), "a string, as Envoy copies the header");
            long ust = Long.parseLong(ok.get("upstream_service_time").asText());
            assertTrue(ust >= 0 && ust <= ok.get("duration").asLong(), ok.toString());
            assertEquals("203.0.113.7, 10.0.0.1", ok.get("x_forwarded_for").asText());
            assertEquals("meshproxy-test/1.0", ok.get("user_agent").asText());
            assertEquals("req-200", ok.get("request_id").asText());
            assertEquals(goodHost, ok.get("upstream_host").asText());
            assertEquals("backend", ok.get("upstream_cluster").asText());
            assertEquals("echo", ok.get("route_name").asText());
            assertEquals("unknown", ok.get("upstream_peer_principal").asText());
            assertEquals(1, ok.get("upstream_request_attempt_count").asInt());

            JsonNode nr = byPath.get("/nope");
            assertEquals("GET", nr.get("method").asText());
            assertEquals(404, nr.get("response_code").asInt());
            assertEquals("NR", nr.get("response_flags").asText());
            assertEquals("route_not_found", nr.get("response_code_details").asText());
            assertEquals(0, nr.get("bytes_received").asLong());
            assertTrue(nr.get("upstream_service_time").isNull(), "nothing went upstream");
            assertTrue(nr.get("x_forwarded_for").isNull(), "absent header: null, as Istio prints it");
            assertEquals("req-404", nr.get("request_id").asText());
            assertTrue(nr.get("upstream_host").isNull());
            assertTrue(nr.get("upstream_cluster").isNull());
            assertTrue(nr.get("upstream_peer_principal").isNull());
            assertEquals(0, nr.get("upstream_request_attempt_count").asInt());

            JsonNode uh = byPath.get("/uh");
            assertEquals(503, uh.get("response_code").asInt());
            assertEquals("UH", uh.get("response_flags").asText());
            assertFalse(uh.get("response_code_details").asText().isEmpty());
            assertTrue(uh.get("upstream_service_time").isNull());
            assertEquals("empty", uh.get("upstream_cluster").asText());
            assertEquals("uh", uh.get("route_name").asText());
            assertEquals("req-503", uh.get("request_id").asText());
            assertTrue(uh.get("upstream_host").isNull(), "no host was chosen");
            assertTrue(uh.get("bytes_sent").asLong() > 0, "the local reply's body");

            List<JsonNode> retried = List.of(byPath.get("/retry/1"), byPath.get("/retry/2")).stream()
                    .filter(l -> l.get("upstream_request_attempt_count").asInt() == 2).toList();
            assertFalse(retried.isEmpty(), "one of the two started on the bad endpoint: " + byPath);
            for (JsonNode r : retried) {
                assertEquals(200, r.get("response_code").asInt());
                assertEquals("-", r.get("response_flags").asText(), "a successful retry leaves no flag");
                assertEquals("via_upstream", r.get("response_code_details").asText());
                assertEquals(goodHost, r.get("upstream_host").asText(), "the host that answered");
                assertEquals("flaky", r.get("upstream_cluster").asText());
                assertEquals("retry", r.get("route_name").asText());
                assertTrue(r.get("upstream_service_time").isTextual());
                assertEquals("good".length(), r.get("bytes_sent").asLong());
            }
            assertEquals(0, accessLogger(telemetry).droppedLines());
        }
    }

    @Test
    void hostileHeaderValuesStayInsideTheirJsonStrings() throws Exception {
        Path file = dir.resolve("access.log");
        // quotes, backslashes, a forged field, a tab, obs-text (0xE9), a closing brace
        String ua = "evil\" , \"response_code\": 999, \"x\": \"\\\t}\u00e9{";
        String xff = "\"]}\\u0000\\n";
        String path = "/echo/%22%5C%0A?q=\"}{";
        try (TestUpstream good = TestUpstream.start("good");
             Telemetry telemetry = Telemetry.create(config(file, 100, true, 1024), null);
             MeshProxy proxy = MeshProxy.builder().config(proxyConfig(good.port(), 0))
                     .eventListener(telemetry.listener()).build().start()) {
            try (RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
                RawHttp.Response r = c.send(("GET " + path + " HTTP/1.1\r\nHost: h\"ost\r\nUser-Agent: " + ua
                        + "\r\nX-Forwarded-For: " + xff + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1)).read();
                assertEquals(200, r.status());
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> lines(file).size() == 1);
            JsonNode l = lines(file).get(0);
            assertEquals(FIELDS, fieldNames(l));
            assertEquals(ua, l.get("user_agent").asText());
            assertEquals(xff, l.get("x_forwarded_for").asText());
            assertEquals(path, l.get("path").asText());
            assertEquals("h\"ost", l.get("authority").asText());
            assertEquals(200, l.get("response_code").asInt(), "the forged field did not win");
        }
    }

    @Test
    void tenPercentSamplingOf2000RequestsLandsWithinBinomialBounds() throws Exception {
        Path file = dir.resolve("access.log");
        int n = 2000;
        double p = 0.10;
        try (TestUpstream good = TestUpstream.start("good");
             Telemetry telemetry = Telemetry.create(config(file, 10, true, 8192), null)) {
            try (MeshProxy proxy = MeshProxy.builder().config(proxyConfig(good.port(), 0))
                    .eventListener(telemetry.listener()).build().start()) {
                try (RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
                    for (int i = 0; i < n; i++) {
                        assertEquals(200, c.send("GET /echo/" + i + " HTTP/1.1\r\nHost: h\r\n\r\n").read().status());
                    }
                }
            } // the proxy's event loops are stopped: every request has ended
            telemetry.close(); // and every queued line is written
            AccessLogger logger = accessLogger(telemetry);
            List<JsonNode> logged = lines(file);
            double mean = n * p;
            double sigma = Math.sqrt(n * p * (1 - p));
            assertTrue(Math.abs(logged.size() - mean) <= 4.5 * sigma,
                    logged.size() + " lines, expected " + mean + " ± " + 4.5 * sigma);
            assertEquals(logged.size(), logger.writtenLines());
            assertEquals(0, logger.droppedLines());
            Set<String> paths = logged.stream().map(l -> l.get("path").asText()).collect(Collectors.toSet());
            assertEquals(logged.size(), paths.size(), "one line per sampled request");
        }
    }

    @Test
    void atZeroPercentEveryErrorIsLoggedWhenAlwaysLogErrorsIsOn() throws Exception {
        assertEquals(Set.of("/nope", "/uh", "/status/500", "/delay/3000"), errorTraffic(true));
    }

    @Test
    void atZeroPercentNothingIsLoggedWhenAlwaysLogErrorsIsOff() throws Exception {
        assertEquals(Set.of(), errorTraffic(false));
    }

    /**
     * At 0% sampling: 10 each of 200, upstream 404 (no flag: not an error), 404 NR, 503 UH, upstream 500, and one
     * request the client abandons (DC). Returns the distinct paths logged, after checking
     * each error kind is logged every time.
     */
    private Set<String> errorTraffic(boolean alwaysLogErrors) throws Exception {
        Path file = dir.resolve("access.log");
        List<String> kinds = List.of("/echo", "/status/404", "/nope", "/uh", "/status/500");
        try (TestUpstream good = TestUpstream.start("good");
             Telemetry telemetry = Telemetry.create(config(file, 0, alwaysLogErrors, 8192), null)) {
            try (MeshProxy proxy = MeshProxy.builder().config(proxyConfig(good.port(), 0))
                    .eventListener(telemetry.listener()).build().start()) {
                int port = proxy.listenerPort("in");
                try (RawHttp c = new RawHttp(port)) {
                    for (int i = 0; i < 10; i++) {
                        for (String k : kinds) {
                            c.send("GET " + k + " HTTP/1.1\r\nHost: h\r\n\r\n").read();
                        }
                    }
                }
                try (RawHttp gone = new RawHttp(port)) {
                    gone.send("GET /delay/3000 HTTP/1.1\r\nHost: h\r\n\r\n");
                    await().atMost(Duration.ofSeconds(5)).until(() -> good.requestsReceived() == 31);
                } // closed before the answer
            }
            telemetry.close();
            List<JsonNode> logged = lines(file);
            Map<String, Long> count = logged.stream()
                    .collect(Collectors.groupingBy(l -> l.get("path").asText(), Collectors.counting()));
            if (alwaysLogErrors) {
                assertEquals(Map.of("/nope", 10L, "/uh", 10L, "/status/500", 10L, "/delay/3000", 1L), count);
                JsonNode gone = logged.stream().filter(l -> l.get("path").asText().equals("/delay/3000"))
                        .findFirst().orElseThrow();
                // Envoy would log code 0 here; proxy-core records the 503 it tried to send the departed client.
                // Either way the DC flag alone makes it an error (code 0 is covered in AccessLogEntryFormatTest).
                assertTrue(gone.get("response_flags").asText().contains("DC"), gone.toString());
            }
            assertEquals(0, accessLogger(telemetry).droppedLines());
            return new TreeSet<>(count.keySet());
        }
    }

    static Set<String> fieldNames(JsonNode n) {
        Set<String> names = new TreeSet<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
