package io.meshproxy.telemetry.tracing;

import io.meshproxy.core.http.Headers;

/**
 * The span of one sampled request at this proxy (one hop: Envoy's sidecar span), kept in
 * {@link io.meshproxy.telemetry.RequestTelemetry#span} from the request's start to its end. Only sampled
 * requests get one. Belongs to the request's event loop.
 */
final class HopSpan {
    /** Formats to inject, as bits: the formats the request came with, or W3C and B3 multi when none came. */
    static final int W3C = 1;
    static final int B3_SINGLE = 2;
    static final int B3_MULTI = 4;

    final long traceIdHigh;
    final long traceIdLow;
    /** Whether the trace id has 128 bits; a 64-bit B3 trace id stays 64-bit in B3 headers and in Zipkin. */
    final boolean traceId128;
    /** The incoming span (the caller's), 0 for a root span. */
    final long parentId;
    final long spanId;
    /** B3 debug: propagated as {@code x-b3-flags: 1} / {@code d}, reported with Zipkin's debug flag. */
    final boolean debug;
    final int formats;
    /** The cluster and endpoint ({@code address:port}) of the last upstream attempt; null until one. */
    String upstreamCluster;
    String upstreamHost;
    // header values, built on the first upstream attempt and reused by retries
    private String traceparent;
    private String b3;
    private String traceIdHex;
    private String spanIdHex;
    private String parentIdHex;

    HopSpan(long traceIdHigh, long traceIdLow, boolean traceId128, long parentId, long spanId, boolean debug,
            int formats) {
        this.traceIdHigh = traceIdHigh;
        this.traceIdLow = traceIdLow;
        this.traceId128 = traceId128;
        this.parentId = parentId;
        this.spanId = spanId;
        this.debug = debug;
        this.formats = formats;
    }

    /** Writes this hop's context (this span as the next hop's parent) into the upstream request's headers. */
    void inject(Headers h) {
        if ((formats & W3C) != 0) {
            if (traceparent == null) {
                traceparent = TraceHeaders.traceparent(traceIdHigh, traceIdLow, spanId, true);
            }
            h.set(TraceHeaders.TRACEPARENT, traceparent);
        }
        if ((formats & B3_SINGLE) != 0) {
            if (b3 == null) {
                b3 = TraceHeaders.b3Single(traceIdHigh, traceIdLow, traceId128, spanId,
                        debug ? TraceHeaders.DEBUG : TraceHeaders.SAMPLED, parentId);
            }
            h.set(TraceHeaders.B3, b3);
        }
        if ((formats & B3_MULTI) != 0) {
            if (traceIdHex == null) {
                traceIdHex = TraceHeaders.traceIdHex(traceIdHigh, traceIdLow, traceId128);
                spanIdHex = TraceHeaders.hex16(spanId);
                parentIdHex = parentId != 0 ? TraceHeaders.hex16(parentId) : null;
            }
            h.set(TraceHeaders.X_B3_TRACE_ID, traceIdHex);
            h.set(TraceHeaders.X_B3_SPAN_ID, spanIdHex);
            if (parentIdHex != null) {
                h.set(TraceHeaders.X_B3_PARENT_SPAN_ID, parentIdHex);
            } else {
                h.remove(TraceHeaders.X_B3_PARENT_SPAN_ID);
            }
            if (debug) {
                // B3: debug implies sampled, so X-B3-Sampled is not sent with it
                h.set(TraceHeaders.X_B3_FLAGS, "1");
                h.remove(TraceHeaders.X_B3_SAMPLED);
            } else {
                h.set(TraceHeaders.X_B3_SAMPLED, "1");
                h.remove(TraceHeaders.X_B3_FLAGS);
            }
        }
    }
}
