package io.meshproxy.telemetry.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.telemetry.RequestTelemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.WorkloadInfo;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import zipkin2.Span;

/**
 * The tracer as the event listener drives it, one hop at a time: what it extracts, what it injects on the
 * upstream attempt, what it decides, and the span it reports.
 */
class TracerTest {
    static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String PARENT = "00f067aa0ba902b7";
    static final WorkloadInfo REVIEWS = new WorkloadInfo("reviews-v2", "bookinfo", "reviews", "v2", "bookinfo-reviews",
            null);

    final List<Span> spans = new CopyOnWriteArrayList<>();

    Tracer tracer(double percent, DoubleSupplier random) {
        TelemetryConfig config = new TelemetryConfig(REVIEWS, Map.of("inbound", "destination"), null,
                new TelemetryConfig.Tracing(percent, null, 100, null), null);
        return Tracer.create(config, spans::add, random);
    }

    Tracer tracer(double percent) {
        return tracer(percent, () -> {
            throw new AssertionError("no random decision expected");
        });
    }

    /** One exchange through listener {@code listener}: start, one upstream attempt, end with {@code status}. */
    static Headers exchange(Tracer tracer, String listener, int status, String... headers) {
        return exchange(tracer, listener, status, ctx -> {}, headers);
    }

    /** The same, with {@code setup} applied to the request's context first (what the transport would set). */
    static Headers exchange(Tracer tracer, String listener, int status,
            java.util.function.Consumer<RequestContext> setup, String... headers) {
        HttpRequest request = new HttpRequest("GET", "http", "reviews.bookinfo.svc:9080", "/reviews/0?x=1",
                Headers.of(headers), null);
        RequestContext ctx = new RequestContext(listener, "HTTP/1.1", new InetSocketAddress("127.0.0.7", 40000),
                new InetSocketAddress("127.0.0.1", 15006), false, null, System.nanoTime());
        setup.accept(ctx);
        RequestTelemetry t = new RequestTelemetry();
        t.startEpochMicros = 1_700_000_000_000_000L;
        t.startNanos = ctx.startNanos();
        t.reporter = "inbound".equals(listener) ? "destination" : "source";
        t.method = request.method();
        t.path = request.path();
        t.authority = request.authority();
        t.protocol = ctx.protocol();
        t.userAgent = request.headers().get("user-agent");
        tracer.onRequestStart(t, ctx, request);
        String rid = request.headers().get("x-request-id");
        if (rid == null) {
            rid = "8f8e9a4c-0000-4000-8000-000000000001";
            request.headers().set("x-request-id", rid); // what the core's request-id filter does
        }
        ctx.requestId(rid);
        ctx.upstreamCluster("outbound|9080||ratings.bookinfo.svc.cluster.local");
        ctx.upstreamHost("127.0.0.9:9080");
        tracer.onUpstreamRequest(t, ctx, request, ctx.upstreamCluster(), ctx.upstreamHost(), 1);
        tracer.onRequestEnd(t, ctx, new RequestLog(listener, "HTTP/1.1", "GET", request.authority(), request.path(),
                rid, "default", ctx.upstreamCluster(), ctx.upstreamHost(), status, status == 503 ? "UF" : "-",
                "via_upstream", 12, 345, 2_500_000));
        assertNull(t.span, "nothing kept after the end");
        return request.headers();
    }

    @Test
    void w3cContextIsContinuedWithThisHopAsParent() {
        Headers up = exchange(tracer(0), "inbound", 200, "traceparent", "00-" + TRACE + "-" + PARENT + "-01",
                "tracestate", "congo=t61rcWkgMzE");
        assertEquals(1, spans.size());
        Span s = spans.get(0);
        assertEquals(TRACE, s.traceId());
        assertEquals(PARENT, s.parentId());
        assertEquals("00-" + TRACE + "-" + s.id() + "-01", up.get("traceparent"), "this hop's span is the next parent");
        assertEquals("congo=t61rcWkgMzE", up.get("tracestate"), "tracestate passes through");
        assertNull(up.get("b3"), "only the formats the request came with");
        assertNull(up.get("x-b3-traceid"));
        assertEquals("8f8e9a4c-0000-4000-8000-000000000001", up.get("x-request-id"));
    }

    @Test
    void b3SingleContextKeepsItsSixtyFourBitTraceId() {
        Headers up = exchange(tracer(0), "outbound", 200, "b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
        Span s = spans.get(0);
        assertEquals("64fe8b2a57d3eff7", s.traceId());
        assertEquals("e457b5a2e4d86bd1", s.parentId());
        assertEquals("64fe8b2a57d3eff7-" + s.id() + "-1-e457b5a2e4d86bd1", up.get("b3"));
        assertNull(up.get("traceparent"));
        assertNull(up.get("x-b3-traceid"));
    }

    @Test
    void b3MultiContextIsContinued() {
        Headers up = exchange(tracer(0), "outbound", 200, "x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124",
                "x-b3-spanid", "a2fb4a1d1a96d312", "x-b3-parentspanid", "0020000000000001", "x-b3-sampled", "1");
        Span s = spans.get(0);
        assertEquals("463ac35c9f6413ad48485a3953bb6124", s.traceId());
        assertEquals("a2fb4a1d1a96d312", s.parentId());
        assertEquals("463ac35c9f6413ad48485a3953bb6124", up.get("x-b3-traceid"));
        assertEquals(s.id(), up.get("x-b3-spanid"));
        assertEquals("a2fb4a1d1a96d312", up.get("x-b3-parentspanid"));
        assertEquals("1", up.get("x-b3-sampled"));
        assertNull(up.get("traceparent"));
    }

    @Test
    void b3DebugFlagForcesSamplingAndIsPropagated() {
        Headers up = exchange(tracer(0), "outbound", 200, "x-b3-traceid", "463ac35c9f6413ad",
                "x-b3-spanid", "a2fb4a1d1a96d312", "x-b3-flags", "1");
        Span s = spans.get(0);
        assertTrue(Boolean.TRUE.equals(s.debug()));
        assertEquals("1", up.get("x-b3-flags"));
        assertNull(up.get("x-b3-sampled"), "B3: debug implies sampled, X-B3-Sampled is not sent with it");
    }

    @Test
    void noContextStartsATraceInW3cAndB3Multi() {
        Headers up = exchange(tracer(100, () -> 0.5), "outbound", 200);
        Span s = spans.get(0);
        assertNull(s.parentId(), "a root span");
        assertEquals(32, s.traceId().length(), "128-bit trace ids");
        assertEquals("00-" + s.traceId() + "-" + s.id() + "-01", up.get("traceparent"));
        assertEquals(s.traceId(), up.get("x-b3-traceid"));
        assertEquals(s.id(), up.get("x-b3-spanid"));
        assertNull(up.get("x-b3-parentspanid"));
        assertEquals("1", up.get("x-b3-sampled"));
        assertNull(up.get("b3"));
    }

    @Test
    void malformedHeadersAreIgnoredAndReplacedByANewTrace() {
        Headers up = exchange(tracer(100, () -> 0.5), "outbound", 200,
                "traceparent", "00-" + TRACE + "-" + PARENT, "tracestate", "congo=t61rcWkgMzE",
                "b3", "not-a-context", "x-b3-traceid", "xyz", "x-b3-spanid", "a2fb4a1d1a96d312", "x-b3-sampled", "0");
        Span s = spans.get(0);
        assertNull(s.parentId(), "nothing usable came: a new trace");
        assertNotEquals(TRACE, s.traceId());
        assertEquals("00-" + s.traceId() + "-" + s.id() + "-01", up.get("traceparent"), "each malformed format replaced");
        assertTrue(up.get("b3").startsWith(s.traceId() + "-" + s.id() + "-1"), up.get("b3"));
        assertEquals(s.traceId(), up.get("x-b3-traceid"));
        assertEquals("1", up.get("x-b3-sampled"));
        assertNull(up.get("tracestate"), "W3C: no tracestate without a valid traceparent");
    }

    @Test
    void incomingNotSampledIsHonouredAndItsHeadersGoOnUntouched() {
        String tp = "00-" + TRACE + "-" + PARENT + "-00";
        Tracer tracer = tracer(100);
        HttpRequest request = new HttpRequest("GET", "http", "a", "/", Headers.of("traceparent", tp), null);
        RequestTelemetry t = new RequestTelemetry();
        tracer.onRequestStart(t, new RequestContext("outbound", "HTTP/1.1", null, null, false, null, 0), request);
        assertNull(t.span, "not sampled: no span state at all");
        assertSame(tp, request.headers().get("traceparent"));
        assertEquals(1, request.headers().size(), "nothing added");

        exchange(tracer, "outbound", 200, "x-b3-traceid", "463ac35c9f6413ad", "x-b3-spanid", "a2fb4a1d1a96d312",
                "x-b3-sampled", "0");
        exchange(tracer, "outbound", 200, "b3", "0");
        assertEquals(0, spans.size(), "sampled=0 is never recorded, even at 100%");
        assertEquals(0, tracer.reportedSpans());
    }

    @Test
    void incomingSampledIsAlwaysRecorded() {
        Tracer tracer = tracer(0);
        exchange(tracer, "outbound", 200, "traceparent", "00-" + TRACE + "-" + PARENT + "-01");
        exchange(tracer, "outbound", 200, "b3", "1");
        exchange(tracer, "outbound", 200, "x-b3-sampled", "1");
        assertEquals(3, spans.size(), "sampled=1 is recorded, even at 0%");
        assertEquals(3, tracer.reportedSpans());
    }

    @Test
    void forceTraceHeaderSamples() {
        Tracer tracer = tracer(0);
        exchange(tracer, "outbound", 200, "x-envoy-force-trace", "true");
        exchange(tracer, "outbound", 200, "x-envoy-force-trace", "true", "traceparent", "00-" + TRACE + "-" + PARENT
                + "-00");
        assertEquals(2, spans.size());
        assertEquals(TRACE, spans.get(1).traceId(), "forced into the incoming trace");
    }

    @Test
    void aNewTraceNotSampledStillPropagatesAContextWithSampledZero() {
        Headers up = exchange(tracer(1, () -> 0.5), "outbound", 200);
        assertEquals(0, spans.size());
        String tp = up.get("traceparent");
        assertEquals(TraceHeaders.FULL, TraceHeaders.traceparentForm(tp));
        assertTrue(tp.endsWith("-00"), tp);
        assertEquals(tp.substring(3, 35), up.get("x-b3-traceid"));
        assertEquals(tp.substring(36, 52), up.get("x-b3-spanid"));
        assertEquals("0", up.get("x-b3-sampled"));
    }

    @Test
    void anUndecidedContextGetsThisHopsDecision() {
        Headers up = exchange(tracer(1, () -> 0.999), "outbound", 200, "b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1");
        assertEquals(0, spans.size());
        String b3 = up.get("b3");
        assertTrue(b3.startsWith("64fe8b2a57d3eff7-") && b3.endsWith("-0-e457b5a2e4d86bd1"), b3);

        exchange(tracer(1, () -> 0.001), "outbound", 200, "b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1");
        assertEquals(1, spans.size(), "0.001 < 1%: sampled");
    }

    @Test
    void aClientSpanWithEnvoysAndIstiosTags() {
        exchange(tracer(100, () -> 0), "outbound", 503, "user-agent", "curl/8", "x-request-id", "rid-1");
        Span s = spans.get(0);
        assertEquals(Span.Kind.CLIENT, s.kind());
        assertEquals("reviews.bookinfo.svc:9080/*", s.name());
        assertEquals(1_700_000_000_000_000L, s.timestampAsLong());
        assertEquals(2_500, s.durationAsLong(), "to the end of the exchange, in microseconds");
        assertEquals("reviews", s.localServiceName());
        assertEquals("127.0.0.1", s.localEndpoint().ipv4());
        assertEquals("127.0.0.9", s.remoteEndpoint().ipv4(), "a client span's remote side: the upstream endpoint");
        assertEquals(9080, s.remoteEndpoint().portAsInt());
        Map<String, String> tags = s.tags();
        assertEquals("GET", tags.get("http.method"));
        assertEquals("http://reviews.bookinfo.svc:9080/reviews/0?x=1", tags.get("http.url"));
        assertEquals("HTTP/1.1", tags.get("http.protocol"));
        assertEquals("503", tags.get("http.status_code"));
        assertEquals("UF", tags.get("response_flags"));
        assertEquals("true", tags.get("error"));
        assertEquals("outbound|9080||ratings.bookinfo.svc.cluster.local", tags.get("upstream_cluster"));
        assertEquals("outbound|9080||ratings.bookinfo.svc.cluster.local", tags.get("upstream_cluster.name"));
        assertEquals("127.0.0.9:9080", tags.get("upstream_address"));
        assertEquals("127.0.0.7", tags.get("peer.address"));
        assertEquals("12", tags.get("request_size"));
        assertEquals("345", tags.get("response_size"));
        assertEquals("rid-1", tags.get("guid:x-request-id"));
        assertEquals("curl/8", tags.get("user_agent"));
        assertEquals("proxy", tags.get("component"));
        assertEquals("reviews", tags.get("istio.canonical_service"));
        assertEquals("v2", tags.get("istio.canonical_revision"));
        assertEquals("bookinfo", tags.get("istio.namespace"));
        assertEquals("unknown", tags.get("peer.principal"));
    }

    @Test
    void aServerSpanForAnInboundListener() {
        exchange(tracer(100, () -> 0), "inbound", 200);
        Span s = spans.get(0);
        assertEquals(Span.Kind.SERVER, s.kind());
        assertEquals("127.0.0.7", s.remoteEndpoint().ipv4(), "a server span's remote side: the caller");
        assertFalse(s.tags().containsKey("error"));
        assertEquals("200", s.tags().get("http.status_code"));
    }

    @Test
    void peerPrincipalIsTheCallersSpiffeUriOnAServerSpanAndTheUpstreamsOnAClientSpan() {
        Tracer tracer = tracer(100, () -> 0);
        java.util.function.Consumer<RequestContext> mtls = ctx -> {
            ctx.peerPrincipal("cluster.local/ns/bookinfo/sa/productpage");
            ctx.upstreamPeerPrincipal("cluster.local/ns/bookinfo/sa/ratings");
        };
        exchange(tracer, "inbound", 200, mtls);
        exchange(tracer, "outbound", 200, mtls);
        assertEquals("spiffe://cluster.local/ns/bookinfo/sa/productpage", spans.get(0).tags().get("peer.principal"));
        assertEquals("spiffe://cluster.local/ns/bookinfo/sa/ratings", spans.get(1).tags().get("peer.principal"));
    }

    @Test
    void operationNamesLikeIstiosRouteDecorator() {
        assertEquals("reviews:9080/*", Tracer.operationName("reviews:9080", false, "c"));
        assertEquals("reviews:80/*", Tracer.operationName("reviews", false, "c"));
        assertEquals("reviews:443/*", Tracer.operationName("reviews", true, "c"));
        assertEquals("[::1]:80/*", Tracer.operationName("[::1]", false, "c"));
        assertEquals("c/*", Tracer.operationName(null, false, "c"));
        String longPath = "/" + "a".repeat(300);
        assertEquals(7 + 1 + Tracer.MAX_PATH_TAG_LENGTH, Tracer.url(false, "h", longPath).length());
    }

    @Test
    void retriesReuseTheSameSpan() {
        Tracer tracer = tracer(100, () -> 0);
        HttpRequest request = new HttpRequest("GET", "http", "a", "/", new Headers(), null);
        RequestContext ctx = new RequestContext("outbound", "HTTP/1.1", null, null, false, null, 0);
        RequestTelemetry t = new RequestTelemetry();
        t.reporter = "source";
        tracer.onRequestStart(t, ctx, request);
        tracer.onUpstreamRequest(t, ctx, request, "c", "10.0.0.1:80", 1);
        String first = request.headers().get("traceparent");
        tracer.onUpstreamRequest(t, ctx, request, "c", "10.0.0.2:80", 2);
        assertEquals(first, request.headers().get("traceparent"), "one span per hop, whatever the attempts");
        tracer.onRequestEnd(t, ctx, new RequestLog("outbound", "HTTP/1.1", "GET", "a", "/", null, null, "c",
                "10.0.0.2:80", 200, "-", "via_upstream", 0, 0, 1000));
        assertEquals("10.0.0.2", spans.get(0).remoteEndpoint().ipv4(), "the last attempt's endpoint");
    }
}
