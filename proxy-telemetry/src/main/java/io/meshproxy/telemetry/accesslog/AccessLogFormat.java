package io.meshproxy.telemetry.accesslog;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.telemetry.WorkloadInfo;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;

/**
 * Istio's default JSON access log format ({@code meshConfig.accessLogEncoding: JSON}), one object per line,
 * written with Jackson's streaming {@link JsonGenerator} (no tree, every string escaped by Jackson: quotes,
 * backslashes and control characters in header values can neither break the line nor forge a field; U+2028 and
 * U+2029 are escaped too, see {@link LineSafeEscapes}).
 *
 * <p>Fields, as Istio names and types them: {@code start_time} (RFC 3339, milliseconds, UTC), {@code method},
 * {@code path}, {@code protocol}, {@code response_code} (0 when no response was sent), {@code response_flags}
 * ({@code "-"} when none), {@code response_code_details}, {@code bytes_received}, {@code bytes_sent},
 * {@code duration} (ms), {@code upstream_service_time} (ms as a string, the way Envoy copies the
 * {@code x-envoy-upstream-service-time} header; null without an upstream answer), {@code x_forwarded_for},
 * {@code user_agent}, {@code request_id}, {@code authority}, {@code upstream_host}, {@code upstream_cluster},
 * {@code route_name}, {@code downstream_remote_address}, {@code downstream_local_address}; and
 * {@code downstream_peer_principal} / {@code upstream_peer_principal} (the peer's SPIFFE URI from its mTLS
 * certificate, {@code spiffe://cluster.local/ns/default/sa/productpage}, as Envoy's
 * {@code %DOWNSTREAM_PEER_URI_SAN%} / {@code %UPSTREAM_PEER_URI_SAN%}; {@code unknown} for a plaintext peer or
 * one without a SPIFFE identity; {@code upstream_peer_principal} is null when nothing went upstream) and
 * {@code upstream_request_attempt_count}. A value the request did not have is JSON {@code null}, as in Istio.
 *
 * <p>Used by the writer thread only: not thread-safe.
 */
final class AccessLogFormat {
    /** Istio writes {@code unknown} for a peer without a certificate. */
    static final String UNKNOWN_PRINCIPAL = "unknown";

    private static final DateTimeFormatter SECONDS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

    private final LineBuffer line = new LineBuffer();
    private final JsonGenerator json;
    private final char[] time = new char[24];
    private long timeSecond = Long.MIN_VALUE;

    AccessLogFormat() {
        try {
            json = new JsonFactory().createGenerator(line, JsonEncoding.UTF8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        json.setRootValueSeparator(null);
        json.setCharacterEscapes(LineSafeEscapes.INSTANCE);
        json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    }

    /** Formats {@code e} as one line (with its newline) and writes it to {@code out}. */
    void write(AccessLogEntry e, OutputStream out) throws IOException {
        line.reset();
        RequestLog log = e.log();
        JsonGenerator g = json;
        g.writeStartObject();
        g.writeFieldName("start_time");
        writeStartTime(g, e.startEpochMicros());
        string(g, "method", log.method());
        string(g, "path", log.path());
        string(g, "protocol", log.protocol());
        g.writeNumberField("response_code", log.responseCode());
        string(g, "response_flags", log.responseFlags() == null || log.responseFlags().isEmpty()
                ? "-" : log.responseFlags());
        string(g, "response_code_details", log.responseCodeDetails());
        g.writeNumberField("bytes_received", log.bytesReceived());
        g.writeNumberField("bytes_sent", log.bytesSent());
        g.writeNumberField("duration", log.durationNanos() / 1_000_000);
        if (e.upstreamServiceTimeMillis() < 0) {
            g.writeNullField("upstream_service_time");
        } else {
            g.writeStringField("upstream_service_time", Long.toString(e.upstreamServiceTimeMillis()));
        }
        string(g, "x_forwarded_for", e.xForwardedFor());
        string(g, "user_agent", e.userAgent());
        string(g, "request_id", log.requestId());
        string(g, "authority", log.authority());
        string(g, "upstream_host", log.upstreamHost());
        string(g, "upstream_cluster", log.upstreamCluster());
        string(g, "route_name", log.routeName());
        string(g, "downstream_remote_address", address(e.downstreamRemote()));
        string(g, "downstream_local_address", address(e.downstreamLocal()));
        principal(g, "downstream_peer_principal", e.downstreamPeerPrincipal());
        if (log.upstreamHost() == null) {
            g.writeNullField("upstream_peer_principal");
        } else {
            principal(g, "upstream_peer_principal", e.upstreamPeerPrincipal());
        }
        g.writeNumberField("upstream_request_attempt_count", e.attempts());
        g.writeEndObject();
        g.writeRaw('\n');
        g.flush();
        out.write(line.bytes, 0, line.size);
    }

    /** A principal as its SPIFFE URI, {@code unknown} without one. */
    private static void principal(JsonGenerator g, String field, String principal) throws IOException {
        g.writeStringField(field, principal == null ? UNKNOWN_PRINCIPAL : WorkloadInfo.spiffeUri(principal));
    }

    private static void string(JsonGenerator g, String field, String value) throws IOException {
        if (value == null) {
            g.writeNullField(field);
        } else {
            g.writeStringField(field, value);
        }
    }

    /** {@code 2024-05-01T12:34:56.789Z}; the seconds part is formatted once per second. */
    private void writeStartTime(JsonGenerator g, long epochMicros) throws IOException {
        long millis = Math.floorDiv(epochMicros, 1000);
        long second = Math.floorDiv(millis, 1000);
        int ms = (int) Math.floorMod(millis, 1000);
        if (second != timeSecond) {
            String s = SECONDS.format(Instant.ofEpochSecond(second));
            if (s.length() != 19) { // a year beyond 9999 or before 0: no fast path
                g.writeString(s + '.' + (char) ('0' + ms / 100) + (char) ('0' + ms / 10 % 10) + (char) ('0' + ms % 10)
                        + 'Z');
                return;
            }
            s.getChars(0, 19, time, 0);
            time[19] = '.';
            time[23] = 'Z';
            timeSecond = second;
        }
        time[20] = (char) ('0' + ms / 100);
        time[21] = (char) ('0' + ms / 10 % 10);
        time[22] = (char) ('0' + ms % 10);
        g.writeString(time, 0, time.length);
    }

    /** Envoy's {@code %DOWNSTREAM_REMOTE_ADDRESS%} form: {@code 10.0.0.1:443}, {@code [::1]:443}. */
    static String address(InetSocketAddress a) {
        if (a == null) {
            return null;
        }
        InetAddress ip = a.getAddress();
        if (ip == null) {
            return a.getHostString() + ":" + a.getPort();
        }
        return ip instanceof Inet6Address
                ? "[" + ip.getHostAddress() + "]:" + a.getPort()
                : ip.getHostAddress() + ":" + a.getPort();
    }

    /**
     * JSON's standard escapes, plus U+2028 and U+2029: legal inside a JSON string, but line breaks to many
     * line-oriented readers (JavaScript, Python's {@code splitlines}), so a header value carrying one could split
     * a line in a log pipeline.
     */
    private static final class LineSafeEscapes extends CharacterEscapes {
        static final LineSafeEscapes INSTANCE = new LineSafeEscapes();
        private static final SerializedString LS = new SerializedString("\\u2028");
        private static final SerializedString PS = new SerializedString("\\u2029");
        private final int[] ascii = standardAsciiEscapesForJSON();

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return ch == 0x2028 ? LS : ch == 0x2029 ? PS : null;
        }
    }

    /** An unsynchronized growable byte buffer the generator writes one line into. */
    private static final class LineBuffer extends OutputStream {
        byte[] bytes = new byte[1024];
        int size;

        void reset() {
            size = 0;
        }

        @Override
        public void write(int b) {
            ensure(1);
            bytes[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, bytes, size, len);
            size += len;
        }

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
            }
        }
    }
}
