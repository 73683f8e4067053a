package io.meshproxy.telemetry.accesslog;

import static io.meshproxy.telemetry.accesslog.AccessLogTesting.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.telemetry.RequestTelemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The line format and the logging decision for values no HTTP parser lets through (control characters, line
 * separators, a request without a response), driven through the sink's own event methods.
 */
class AccessLogFormatTest {
    @TempDir
    Path dir;

    private static final InetSocketAddress REMOTE = new InetSocketAddress("::1", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("10.1.2.3", 15006);

    private static RequestLog log(String path, String ua, int code, String flags) {
        return new RequestLog("in", "HTTP/2", "GET", "svc.ns:8080", path, "id-1", "r1", "backend", "10.0.0.9:8080",
                code, flags, "via_upstream", 12, 34, 56_789_000L);
    }

    /** Runs one request through {@code logger}'s events with telemetry {@code t}. */
    private static void request(AccessLogger logger, RequestTelemetry t, RequestLog log) {
        RequestContext ctx = new RequestContext("in", "HTTP/2", REMOTE, LOCAL, false, null, System.nanoTime());
        logger.onRequestStart(t, ctx, null);
        logger.onRequestEnd(t, ctx, log);
    }

    private static AccessLogger logger(ByteArrayOutputStream out, double percent, boolean errors, double random) {
        return new AccessLogger(new TelemetryConfig.AccessLog("mem", percent, errors, 64), out, "mem", () -> random);
    }

    @Test
    void controlCharactersAndLineSeparatorsAreEscapedAndEveryValueRoundTrips() throws Exception {
        String ua = "a\nb\r\n{\"forged\":1}\u0000\u001f\u007f\u2028\u2029\\\"\t\u00e9\ud83d\ude00";
        String path = "/p\n\"}";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AccessLogger logger = logger(out, 100, true, 0.5);
        RequestTelemetry t = new RequestTelemetry();
        t.startEpochMicros = Instant.parse("2024-02-29T23:59:59.007Z").toEpochMilli() * 1000 + 999;
        t.userAgent = ua;
        t.xForwardedFor = "x\"y";
        t.attempts = 3;
        t.upstreamStartNanos = 1_000_000;
        t.responseHeadersNanos = 43_999_999;
        request(logger, t, log(path, ua, 200, "-"));
        logger.close();

        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.chars().filter(c -> c == '\n').count(), "exactly one line: " + text);
        assertFalse(text.contains("\u2028") || text.contains("\u2029"), "line and paragraph separators escaped");
        assertTrue(text.contains("\\u2028\\u2029"), text);
        assertTrue(text.contains("\\n") && text.contains("\\r") && text.contains("\\u0000"), text);
        List<JsonNode> lines = parse(text);
        JsonNode l = lines.get(0);
        assertEquals(ua, l.get("user_agent").asText());
        assertEquals(path, l.get("path").asText());
        assertEquals("x\"y", l.get("x_forwarded_for").asText());
        assertEquals("2024-02-29T23:59:59.007Z", l.get("start_time").asText());
        assertEquals("42", l.get("upstream_service_time").asText());
        assertEquals(56, l.get("duration").asLong());
        assertEquals(12, l.get("bytes_received").asLong());
        assertEquals(34, l.get("bytes_sent").asLong());
        assertEquals("HTTP/2", l.get("protocol").asText());
        assertEquals("[0:0:0:0:0:0:0:1]:40000", l.get("downstream_remote_address").asText());
        assertEquals("10.1.2.3:15006", l.get("downstream_local_address").asText());
        assertEquals(3, l.get("upstream_request_attempt_count").asInt());
        assertEquals(AccessLoggerTest.FIELDS, AccessLoggerTest.fieldNames(l));
    }

    @Test
    void startTimesAcrossSecondsAndBeforeTheEpochAreFormattedExactly() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AccessLogger logger = logger(out, 100, true, 0.5);
        List<String> times = List.of("2024-02-29T23:59:59.999Z", "2024-03-01T00:00:00.000Z",
                "2024-03-01T00:00:00.010Z", "1969-12-31T23:59:59.123Z", "2024-03-01T00:00:01.100Z");
        for (String s : times) {
            RequestTelemetry t = new RequestTelemetry();
            t.startEpochMicros = Instant.parse(s).toEpochMilli() * 1000;
            request(logger, t, log("/t", null, 200, "-"));
        }
        logger.close();
        List<String> got = parse(out.toString(StandardCharsets.UTF_8)).stream()
                .map(l -> l.get("start_time").asText()).toList();
        assertEquals(times, got);
    }

    @Test
    void errorsAreA5xxAFlagOrNoResponseAtAll() {
        assertTrue(AccessLogger.isError(log("/", null, 0, "DC")));
        assertTrue(AccessLogger.isError(log("/", null, 0, "-")), "no response at all");
        assertTrue(AccessLogger.isError(log("/", null, 500, "-")));
        assertTrue(AccessLogger.isError(log("/", null, 503, "UH")));
        assertTrue(AccessLogger.isError(log("/", null, 404, "NR")));
        assertTrue(AccessLogger.isError(log("/", null, 200, "DI")), "any flag");
        assertFalse(AccessLogger.isError(log("/", null, 404, "-")), "a 4xx of the upstream is an answer");
        assertFalse(AccessLogger.isError(log("/", null, 200, "-")));
        assertFalse(AccessLogger.isError(log("/", null, 499, null)));
    }

    @Test
    void theSamplingDecisionIsTakenAtTheStartFromTheInjectedRandom() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AccessLogger in = logger(out, 10, false, 0.0999);
        AccessLogger outOfSample = logger(out, 10, false, 0.1);
        RequestTelemetry a = new RequestTelemetry();
        RequestTelemetry b = new RequestTelemetry();
        request(in, a, log("/in", null, 200, "-"));
        request(outOfSample, b, log("/out", null, 0, "DC"));
        assertTrue(a.accessLogSampled);
        assertFalse(b.accessLogSampled);
        in.close();
        outOfSample.close();
        assertEquals(List.of("/in"), parse(out.toString(StandardCharsets.UTF_8)).stream()
                .map(l -> l.get("path").asText()).toList(), "without alwaysLogErrors the DC is not logged");
    }

    @Test
    void linesAreAppendedToAnExistingFileAndAPathThatCannotBeOpenedFailsAtCreation() throws Exception {
        Path file = dir.resolve("access.log");
        Files.writeString(file, "{\"earlier\":true}\n");
        TelemetryConfig config = AccessLogTesting.config(file, 100, true, 16);
        try (AccessLogger logger = AccessLogger.create(config)) {
            request(logger, new RequestTelemetry(), log("/appended", null, 200, "-"));
        }
        List<JsonNode> lines = AccessLogTesting.lines(file);
        assertEquals(2, lines.size());
        assertTrue(lines.get(0).get("earlier").asBoolean());
        assertEquals("/appended", lines.get(1).get("path").asText());

        Path notADirectory = dir.resolve("plain");
        Files.writeString(notADirectory, "");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> AccessLogger.create(
                AccessLogTesting.config(notADirectory.resolve("access.log"), 100, true, 16)));
        assertTrue(e.getMessage().contains("accessLog.path"), e.getMessage());
    }

    @Test
    void linesOfferedAfterCloseAreDroppedAndCounted() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AccessLogger logger = logger(out, 100, true, 0.5);
        logger.close();
        request(logger, new RequestTelemetry(), log("/late", null, 200, "-"));
        assertEquals(1, logger.droppedLines());
        assertEquals(0, out.size());
    }
}
