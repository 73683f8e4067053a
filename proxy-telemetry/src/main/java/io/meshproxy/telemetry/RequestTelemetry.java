package io.meshproxy.telemetry;

/**
 * What telemetry remembers about one request between its events: one object per request (only when
 * telemetry is on), kept in the request context's event-state slot and shared by metrics, tracing and access
 * logs. Belongs to the request's event loop.
 */
public final class RequestTelemetry {
    /** Wall-clock start, microseconds since the epoch (access log {@code start_time}, span timestamp). */
    public long startEpochMicros;
    /** {@link System#nanoTime()} at the start. */
    public long startNanos;
    /** Istio's {@code reporter}: {@code source} or {@code destination}. */
    public String reporter;
    public String method;
    public String path;
    public String authority;
    /** {@code HTTP/1.1}, {@code HTTP/2}, {@code in-process}; gRPC is told apart by {@link #grpc}. */
    public String protocol;
    /** Whether the request's content-type is {@code application/grpc...}. */
    public boolean grpc;
    /** The request's {@code x-forwarded-for} as it arrived, or null. */
    public String xForwardedFor;
    /** The request's {@code user-agent}, or null. */
    public String userAgent;
    /** {@link System#nanoTime()} when the first attempt went upstream; 0 if none did. */
    public long upstreamStartNanos;
    /** {@link System#nanoTime()} when the response head left for the downstream; 0 if none did. */
    public long responseHeadersNanos;
    /** The response's {@code grpc-status} header, or -1. */
    public int grpcStatus = -1;
    /** Attempts sent upstream. */
    public int attempts;
    /** Whether this request's access log line is written whatever its outcome (sampled at the start). */
    public boolean accessLogSampled;
    /** The tracing component's state (its span), or null when not traced. */
    public Object span;

    /** Envoy's {@code %RESPONSE_DURATION%}-style upstream service time in ms, or -1 without an upstream answer. */
    public long upstreamServiceTimeMillis() {
        if (upstreamStartNanos == 0 || responseHeadersNanos == 0) {
            return -1;
        }
        return (responseHeadersNanos - upstreamStartNanos) / 1_000_000;
    }
}
