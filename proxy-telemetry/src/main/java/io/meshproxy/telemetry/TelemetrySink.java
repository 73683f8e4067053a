package io.meshproxy.telemetry;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.net.InetSocketAddress;

/**
 * One telemetry component (metrics, tracing, access logs), fed by {@link Telemetry} with the request's shared
 * {@link RequestTelemetry}. Same threading and order as {@link io.meshproxy.core.filter.RequestEventListener};
 * every method has an empty default.
 */
public interface TelemetrySink extends AutoCloseable {

    default void onRequestStart(RequestTelemetry t, RequestContext ctx, HttpRequest request) {}

    default void onUpstreamRequest(RequestTelemetry t, RequestContext ctx, HttpRequest request, String cluster,
            String host, int attempt) {}

    default void onResponseHeaders(RequestTelemetry t, RequestContext ctx, HttpResponse response) {}

    default void onRequestEnd(RequestTelemetry t, RequestContext ctx, RequestLog log) {}

    default void onConnectionOpen(String listenerName, InetSocketAddress remote, InetSocketAddress local) {}

    default void onConnectionClose(String listenerName, InetSocketAddress remote, InetSocketAddress local,
            long bytesReceived, long bytesSent) {}

    /** A downstream TLS handshake on {@code listenerName} finished; {@code peerPrincipal} Istio's form or null. */
    default void onTlsHandshake(String listenerName, boolean resumed, long durationNanos, String peerPrincipal) {}

    /** A downstream TLS handshake on {@code listenerName} failed. */
    default void onTlsHandshakeFailed(String listenerName, long durationNanos) {}

    /** Flushes what is queued (bounded) and stops background work. */
    @Override
    default void close() {}
}
