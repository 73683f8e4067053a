package io.meshproxy.telemetry.tracing;

import static io.meshproxy.telemetry.tracing.TraceHeaders.ABSENT;
import static io.meshproxy.telemetry.tracing.TraceHeaders.DEBUG;
import static io.meshproxy.telemetry.tracing.TraceHeaders.FULL;
import static io.meshproxy.telemetry.tracing.TraceHeaders.MALFORMED;
import static io.meshproxy.telemetry.tracing.TraceHeaders.NOT_SAMPLED;
import static io.meshproxy.telemetry.tracing.TraceHeaders.SAMPLED;
import static io.meshproxy.telemetry.tracing.TraceHeaders.SAMPLING_ONLY;
import static io.meshproxy.telemetry.tracing.TraceHeaders.UNDECIDED;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.telemetry.RequestTelemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.TelemetrySink;
import io.meshproxy.telemetry.WorkloadInfo;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import zipkin2.Endpoint;
import zipkin2.Span;
import zipkin2.reporter.AsyncReporter;
import zipkin2.reporter.Reporter;
import zipkin2.reporter.ReporterMetrics;
import zipkin2.reporter.urlconnection.URLConnectionSender;

/**
 * Sampled distributed tracing as an Istio sidecar's Envoy does it: one span per proxy hop, the trace context
 * propagated in W3C Trace Context and B3, spans exported to Zipkin (v2 JSON over HTTP).
 *
 * <p><b>Propagation.</b> At the request's start the incoming context is extracted from {@code b3}, then the
 * {@code x-b3-*} headers, then {@code traceparent} (the first valid one wins, as Envoy's Zipkin tracer reads B3
 * before W3C); malformed headers are ignored and the request starts a new trace. On every upstream attempt the
 * context is injected with this hop's span as the parent of the next hop, in each format the request came with
 * (W3C and B3 multi when it came with none); {@code tracestate} and {@code x-request-id} pass through untouched.
 * The application behind an INBOUND listener forwards these headers on its own calls, and the next hop
 * continues the trace.
 *
 * <p><b>Sampling.</b> One decision per trace: B3's debug flag or Envoy's {@code x-envoy-force-trace} header
 * samples; else an incoming sampled / not-sampled flag is honoured; else {@link TelemetryConfig.Tracing#samplingPercent()}
 * decides (Istio's default: 1%). A request that is not sampled keeps its context (or gets a new one) with the
 * sampled flag 0, written once at its start, and records nothing: no span object, no tags.
 *
 * <p><b>Spans.</b> Kind {@code CLIENT} for an OUTBOUND listener (Istio's {@code reporter=source}), {@code SERVER}
 * for an INBOUND one ({@code reporter=destination}); named like Istio's route decorator,
 * {@code <host>:<port>/*}; started at the request's start, lasting to the end of the exchange; tagged with
 * Envoy's request tags ({@code http.method}, {@code http.url}, {@code http.protocol}, {@code http.status_code},
 * {@code response_flags}, {@code upstream_cluster}, {@code upstream_cluster.name}, {@code upstream_address},
 * {@code peer.address}, {@code request_size}, {@code response_size}, {@code guid:x-request-id},
 * {@code user_agent}, {@code component=proxy}, {@code error=true} for a 5xx or no response) and Istio's
 * workload tags ({@code istio.canonical_service}, {@code istio.canonical_revision}, {@code istio.namespace}),
 * plus {@code peer.principal}: the SPIFFE URI of the peer's mTLS certificate — the caller's on a SERVER span,
 * the upstream's on a CLIENT span — or {@code unknown} for a plaintext peer.
 *
 * <p><b>Export.</b> Zipkin's {@link AsyncReporter} batches spans on its own thread from a queue bounded by
 * {@link TelemetryConfig.Tracing#maxQueuedSpans()}; a full queue or a failed send drops spans and counts them
 * ({@link #droppedSpans()}). On the event loop a sampled request costs building its {@link Span} and
 * {@link Reporter#report}, nothing else; {@link #close()} flushes what is queued.
 */
public final class Tracer implements TelemetrySink {
    /** Envoy's {@code max_path_tag_length} default: longer paths are cut in {@code http.url}. */
    static final int MAX_PATH_TAG_LENGTH = 256;
    static final String UNKNOWN_PRINCIPAL = WorkloadInfo.UNKNOWN;

    private final Reporter<Span> reporter;
    private final AsyncReporter<Span> ownedReporter;
    private final URLConnectionSender ownedSender;
    private final ExportMetrics metrics = new ExportMetrics();
    private final DoubleSupplier random;
    private final double samplingFraction;
    private final String serviceName;
    private final String canonicalService;
    private final String canonicalRevision;
    private final String namespace;
    private final LongAdder reported = new LongAdder();
    private final AtomicBoolean closed = new AtomicBoolean();

    private Tracer(TelemetryConfig config, Reporter<Span> reporter, DoubleSupplier random, boolean ownReporter) {
        TelemetryConfig.Tracing tracing = config.tracing();
        this.random = Objects.requireNonNull(random, "random");
        this.samplingFraction = tracing.samplingPercent() / 100.0;
        WorkloadInfo w = config.workload();
        this.serviceName = tracing.serviceName() != null ? tracing.serviceName()
                : !WorkloadInfo.UNKNOWN.equals(w.app()) ? w.app() : w.name();
        // Istio's canonical service is the service.istio.io/canonical-name label, defaulting to the app label
        // (else the workload name); its canonical revision defaults to the version label, else "latest".
        this.canonicalService = !WorkloadInfo.UNKNOWN.equals(w.app()) ? w.app() : w.name();
        this.canonicalRevision = !WorkloadInfo.UNKNOWN.equals(w.version()) ? w.version() : "latest";
        this.namespace = w.namespace();
        if (ownReporter) {
            this.ownedSender = URLConnectionSender.newBuilder()
                    .endpoint(Objects.requireNonNull(tracing.zipkinEndpoint(), "tracing.zipkinEndpoint"))
                    .connectTimeout(2_000)
                    .readTimeout(5_000)
                    .build();
            this.ownedReporter = AsyncReporter.builder(ownedSender)
                    .queuedMaxSpans(tracing.maxQueuedSpans())
                    .messageTimeout(1, TimeUnit.SECONDS)
                    .closeTimeout(2, TimeUnit.SECONDS)
                    .metrics(metrics)
                    .threadFactory(r -> {
                        Thread t = new Thread(r, "meshproxy-zipkin-reporter");
                        t.setDaemon(true);
                        return t;
                    })
                    .build();
            this.reporter = ownedReporter;
        } else {
            this.ownedSender = null;
            this.ownedReporter = null;
            this.reporter = Objects.requireNonNull(reporter, "reporter");
        }
    }

    /** Tracing as {@code config} says, exported to its {@code zipkinEndpoint}. */
    public static Tracer create(TelemetryConfig config) {
        return new Tracer(config, null, () -> ThreadLocalRandom.current().nextDouble(), true);
    }

    /**
     * Tracing whose spans go to {@code reporter} (which the caller owns and closes), sampling new traces with
     * {@code random} (uniform in [0, 1), called from every event loop); for tests and embedding applications
     * with a reporter of their own.
     */
    public static Tracer create(TelemetryConfig config, Reporter<Span> reporter, DoubleSupplier random) {
        return new Tracer(config, reporter, random, false);
    }

    /** Like {@link #create(TelemetryConfig, Reporter, DoubleSupplier)} with a thread-local random source. */
    public static Tracer create(TelemetryConfig config, Reporter<Span> reporter) {
        return create(config, reporter, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** Spans handed to the reporter (one per sampled request that ended). */
    public long reportedSpans() {
        return reported.sum();
    }

    /** Spans the exporter dropped: its queue was full, a send failed, or it was closed. 0 with a caller's reporter. */
    public long droppedSpans() {
        return metrics.spansDropped.sum();
    }

    /** Spans waiting in the exporter's queue, as the exporter's thread last saw it when it drained the queue. */
    public int queuedSpans() {
        return metrics.queuedSpans;
    }

    @Override
    public void onRequestStart(RequestTelemetry t, RequestContext ctx, HttpRequest request) {
        Headers h = request.headers();
        String b3 = h.get(TraceHeaders.B3);
        String traceparent = h.get(TraceHeaders.TRACEPARENT);
        String xTraceId = h.get(TraceHeaders.X_B3_TRACE_ID);
        String xSpanId = h.get(TraceHeaders.X_B3_SPAN_ID);
        String xSampled = h.get(TraceHeaders.X_B3_SAMPLED);
        String xFlags = h.get(TraceHeaders.X_B3_FLAGS);
        int b3Form = TraceHeaders.b3SingleForm(b3);
        int multiForm = TraceHeaders.b3MultiForm(xTraceId, xSpanId, xSampled, xFlags);
        int w3cForm = TraceHeaders.traceparentForm(traceparent);

        // the incoming context: the first valid one of b3, x-b3-*, traceparent
        int source;
        int incoming;
        if (b3Form == FULL) {
            source = HopSpan.B3_SINGLE;
            incoming = TraceHeaders.b3SingleSampling(b3);
        } else if (multiForm == FULL) {
            source = HopSpan.B3_MULTI;
            incoming = TraceHeaders.b3MultiSampling(xSampled, xFlags);
        } else if (w3cForm == FULL) {
            source = HopSpan.W3C;
            incoming = TraceHeaders.traceparentSampling(traceparent);
        } else {
            source = 0;
            incoming = b3Form == SAMPLING_ONLY ? TraceHeaders.b3SingleSampling(b3)
                    : multiForm == SAMPLING_ONLY ? TraceHeaders.b3MultiSampling(xSampled, xFlags) : UNDECIDED;
        }
        boolean sampled = incoming == DEBUG || incoming == SAMPLED || h.contains(TraceHeaders.FORCE_TRACE)
                || (incoming == UNDECIDED && sampleNewTrace());
        if (!sampled && incoming == NOT_SAMPLED && b3Form != MALFORMED && multiForm != MALFORMED
                && w3cForm != MALFORMED) {
            return; // decided upstream and carried in good order: the headers go on as they came
        }

        int formats = (w3cForm != ABSENT ? HopSpan.W3C : 0) | (b3Form != ABSENT ? HopSpan.B3_SINGLE : 0)
                | (multiForm != ABSENT ? HopSpan.B3_MULTI : 0);
        if (formats == 0) {
            formats = HopSpan.W3C | HopSpan.B3_MULTI;
        }
        long traceIdHigh;
        long traceIdLow;
        boolean traceId128;
        long parentId;
        switch (source) {
            case HopSpan.B3_SINGLE -> {
                traceIdHigh = TraceHeaders.b3SingleTraceIdHigh(b3);
                traceIdLow = TraceHeaders.b3SingleTraceIdLow(b3);
                traceId128 = TraceHeaders.b3SingleTraceId128(b3);
                parentId = TraceHeaders.b3SingleSpanId(b3);
            }
            case HopSpan.B3_MULTI -> {
                traceIdHigh = TraceHeaders.b3MultiTraceIdHigh(xTraceId);
                traceIdLow = TraceHeaders.b3MultiTraceIdLow(xTraceId);
                traceId128 = xTraceId.length() == 32;
                parentId = TraceHeaders.parseHex(xSpanId, 0, 16);
            }
            case HopSpan.W3C -> {
                traceIdHigh = TraceHeaders.traceparentTraceIdHigh(traceparent);
                traceIdLow = TraceHeaders.traceparentTraceIdLow(traceparent);
                traceId128 = true;
                parentId = TraceHeaders.traceparentSpanId(traceparent);
            }
            default -> { // a new trace: 128-bit ids, as Istio configures Envoy's Zipkin tracer
                traceIdHigh = ThreadLocalRandom.current().nextLong();
                traceIdLow = nonZeroId();
                traceId128 = true;
                parentId = 0;
            }
        }
        if (w3cForm == MALFORMED) {
            h.remove(TraceHeaders.TRACESTATE); // W3C: no tracestate without a valid traceparent
        }
        long spanId = nonZeroId();
        if (sampled) {
            t.span = new HopSpan(traceIdHigh, traceIdLow, traceId128, parentId, spanId, incoming == DEBUG, formats);
        } else {
            injectNotSampled(h, formats, traceIdHigh, traceIdLow, traceId128, parentId, spanId);
        }
    }

    @Override
    public void onUpstreamRequest(RequestTelemetry t, RequestContext ctx, HttpRequest request, String cluster,
            String host, int attempt) {
        if (t.span instanceof HopSpan span) {
            span.upstreamCluster = cluster;
            span.upstreamHost = host;
            span.inject(request.headers());
        }
    }

    @Override
    public void onRequestEnd(RequestTelemetry t, RequestContext ctx, RequestLog log) {
        if (t.span instanceof HopSpan span) {
            t.span = null;
            reporter.report(toZipkin(span, t, ctx, log));
            reported.increment();
        }
    }

    /** Flushes the queued spans to Zipkin (bounded by the sender's timeouts) and stops the exporter's thread. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true) || ownedReporter == null) {
            return;
        }
        try {
            ownedReporter.flush();
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(Tracer.class).warn("flushing spans to Zipkin failed", e);
        }
        ownedReporter.close();
        ownedSender.close();
    }

    @Override
    public String toString() {
        return "Tracer{samplingPercent=" + samplingFraction * 100 + ", serviceName=" + serviceName + "}";
    }

    private boolean sampleNewTrace() {
        return samplingFraction >= 1.0 || (samplingFraction > 0 && random.getAsDouble() < samplingFraction);
    }

    private static long nonZeroId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long id;
        do {
            id = r.nextLong();
        } while (id == 0);
        return id;
    }

    /** Writes a context with the sampled flag 0 in each of {@code formats}, so that the next hops agree. */
    private static void injectNotSampled(Headers h, int formats, long traceIdHigh, long traceIdLow,
            boolean traceId128, long parentId, long spanId) {
        if ((formats & HopSpan.W3C) != 0) {
            h.set(TraceHeaders.TRACEPARENT, TraceHeaders.traceparent(traceIdHigh, traceIdLow, spanId, false));
        }
        if ((formats & HopSpan.B3_SINGLE) != 0) {
            h.set(TraceHeaders.B3, TraceHeaders.b3Single(traceIdHigh, traceIdLow, traceId128, spanId, NOT_SAMPLED,
                    parentId));
        }
        if ((formats & HopSpan.B3_MULTI) != 0) {
            h.set(TraceHeaders.X_B3_TRACE_ID, TraceHeaders.traceIdHex(traceIdHigh, traceIdLow, traceId128));
            h.set(TraceHeaders.X_B3_SPAN_ID, TraceHeaders.hex16(spanId));
            if (parentId != 0) {
                h.set(TraceHeaders.X_B3_PARENT_SPAN_ID, TraceHeaders.hex16(parentId));
            } else {
                h.remove(TraceHeaders.X_B3_PARENT_SPAN_ID);
            }
            h.set(TraceHeaders.X_B3_SAMPLED, "0");
            h.remove(TraceHeaders.X_B3_FLAGS);
        }
    }

    /** This hop's Zipkin span, with Envoy's and Istio's tags. */
    Span toZipkin(HopSpan s, RequestTelemetry t, RequestContext ctx, RequestLog log) {
        boolean server = "destination".equals(t.reporter);
        Span.Builder b = Span.newBuilder()
                .traceId(s.traceId128 ? s.traceIdHigh : 0, s.traceIdLow)
                .id(s.spanId)
                .parentId(s.parentId)
                .kind(server ? Span.Kind.SERVER : Span.Kind.CLIENT)
                .name(operationName(t.authority, ctx.secure(), s.upstreamCluster))
                .timestamp(t.startEpochMicros)
                .duration(Math.max(1, log.durationNanos() / 1000))
                .localEndpoint(localEndpoint(ctx.localAddress()));
        if (s.debug) {
            b.debug(true);
        }
        // the remote endpoint is the other side of this hop: the caller for a SERVER span, the upstream endpoint
        // for a CLIENT span (Zipkin's model); the upstream endpoint is always in upstream_address
        Endpoint remote = server ? socketEndpoint(ctx.remoteAddress()) : hostPortEndpoint(s.upstreamHost);
        if (remote != null) {
            b.remoteEndpoint(remote);
        }
        int status = log.responseCode();
        b.putTag("component", "proxy");
        tag(b, "http.method", t.method != null ? t.method : log.method());
        b.putTag("http.url", url(ctx.secure(), t.authority, t.path));
        tag(b, "http.protocol", t.protocol != null ? t.protocol : log.protocol());
        b.putTag("http.status_code", Integer.toString(status));
        tag(b, "response_flags", log.responseFlags());
        b.putTag("request_size", Long.toString(log.bytesReceived()));
        b.putTag("response_size", Long.toString(log.bytesSent()));
        if (ctx.requestId() != null) {
            b.putTag("guid:x-request-id", ctx.requestId());
        }
        if (t.userAgent != null) {
            b.putTag("user_agent", t.userAgent);
        }
        InetSocketAddress peer = ctx.remoteAddress();
        if (peer != null && peer.getAddress() != null) {
            b.putTag("peer.address", peer.getAddress().getHostAddress());
        }
        if (s.upstreamCluster != null) {
            b.putTag("upstream_cluster", s.upstreamCluster);
            b.putTag("upstream_cluster.name", s.upstreamCluster);
        }
        if (s.upstreamHost != null) {
            b.putTag("upstream_address", s.upstreamHost);
        }
        if (t.grpc && t.grpcStatus >= 0) {
            b.putTag("grpc.status_code", Integer.toString(t.grpcStatus));
        }
        if (status >= 500 || status == 0) {
            b.putTag("error", "true");
        }
        b.putTag("istio.canonical_service", canonicalService);
        b.putTag("istio.canonical_revision", canonicalRevision);
        b.putTag("istio.namespace", namespace);
        String principal = server ? ctx.peerPrincipal() : ctx.upstreamPeerPrincipal();
        b.putTag("peer.principal", principal == null ? UNKNOWN_PRINCIPAL : WorkloadInfo.spiffeUri(principal));
        return b.build();
    }

    private static void tag(Span.Builder b, String key, String value) {
        if (value != null) {
            b.putTag(key, value);
        }
    }

    /**
     * Istio's route decorator: {@code <host>:<port>/*}, the port from the authority or the scheme's default;
     * without an authority, the cluster's name.
     */
    static String operationName(String authority, boolean secure, String cluster) {
        if (authority == null || authority.isEmpty()) {
            return (cluster != null ? cluster : "unknown") + "/*";
        }
        int close = authority.lastIndexOf(']');
        int colon = authority.lastIndexOf(':');
        if (colon > close) {
            return authority + "/*";
        }
        return authority + (secure ? ":443/*" : ":80/*");
    }

    /** Envoy's {@code http.url}: scheme, authority and path, the path cut at {@link #MAX_PATH_TAG_LENGTH}. */
    static String url(boolean secure, String authority, String path) {
        String p = path == null ? "" : path.length() > MAX_PATH_TAG_LENGTH ? path.substring(0, MAX_PATH_TAG_LENGTH) : path;
        return (secure ? "https://" : "http://") + (authority == null ? "" : authority) + p;
    }

    private Endpoint localEndpoint(InetSocketAddress local) {
        Endpoint.Builder b = Endpoint.newBuilder().serviceName(serviceName);
        if (local != null && local.getAddress() != null && !local.getAddress().isAnyLocalAddress()) {
            b.ip(local.getAddress());
        }
        return b.build();
    }

    private static Endpoint socketEndpoint(InetSocketAddress a) {
        if (a == null) {
            return null;
        }
        InetAddress ip = a.getAddress();
        if (ip == null) {
            return null;
        }
        return Endpoint.newBuilder().ip(ip).port(a.getPort()).build();
    }

    /** {@code address:port} of an upstream endpoint; a host name becomes the endpoint's service name. */
    static Endpoint hostPortEndpoint(String hostPort) {
        if (hostPort == null) {
            return null;
        }
        int colon = hostPort.lastIndexOf(':');
        String host = colon > 0 && hostPort.indexOf(']') < colon ? hostPort.substring(0, colon) : hostPort;
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        Endpoint.Builder b = Endpoint.newBuilder();
        if (!b.parseIp(host)) {
            b.serviceName(host);
        }
        if (colon > 0 && host.length() < hostPort.length()) {
            try {
                b.port(Integer.parseInt(hostPort.substring(colon + 1)));
            } catch (NumberFormatException e) {
                // no port then
            }
        }
        return b.build();
    }

    /** Counts of Zipkin's reporter: spans dropped (queue full, send failed, closed), messages, queue depth. */
    private static final class ExportMetrics implements ReporterMetrics {
        final LongAdder spans = new LongAdder();
        final LongAdder spansDropped = new LongAdder();
        final LongAdder messages = new LongAdder();
        final LongAdder messagesDropped = new LongAdder();
        volatile int queuedSpans;

        @Override
        public void incrementMessages() {
            messages.increment();
        }

        @Override
        public void incrementMessagesDropped(Throwable cause) {
            messagesDropped.increment();
        }

        @Override
        public void incrementSpans(int quantity) {
            spans.add(quantity);
        }

        @Override
        public void incrementSpanBytes(int quantity) {}

        @Override
        public void incrementMessageBytes(int quantity) {}

        @Override
        public void incrementSpansDropped(int quantity) {
            spansDropped.add(quantity);
        }

        @Override
        public void updateQueuedSpans(int update) {
            queuedSpans = update;
        }

        @Override
        public void updateQueuedBytes(int update) {}
    }
}
