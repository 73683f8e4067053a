package io.meshproxy.core.filter;

import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.resilience.Outcome;
import java.net.InetSocketAddress;

/**
 * Told of each step of every request, and of every downstream connection, so that metrics, tracing and
 * access logs can be built outside the core (proxy-telemetry implements it). All methods have empty defaults;
 * a proxy with no listener calls none of them and allocates nothing for them.
 *
 * <p>Request events arrive on the request's event loop, in this order: {@link #onRequestStart}, then per
 * upstream attempt {@link #onUpstreamRequest} (and {@link #onRetry} before each retry), then
 * {@link #onResponseHeaders}, then exactly once {@link #onRequestEnd}. A request answered locally (no route,
 * a filter, a fault) skips the upstream events. Keep them cheap, never block, and hand anything slow to a
 * bounded queue. Per-request state belongs in {@link RequestContext#eventState(Object)}.
 */
public interface RequestEventListener {

    /** The no-op listener. */
    RequestEventListener NONE = new RequestEventListener() {};

    /**
     * The request head arrived and the request is about to enter the filter chain. The request's headers may
     * be read (and changed: a tracer may take its trace context from them).
     */
    default void onRequestStart(RequestContext ctx, HttpRequest request) {}

    /**
     * An attempt is about to go upstream: {@code cluster} and {@code host} (address:port) are chosen;
     * {@code attempt} counts from 1. The request's headers may still be changed (trace context injection).
     */
    default void onUpstreamRequest(RequestContext ctx, HttpRequest request, String cluster, String host, int attempt) {}

    /** Attempt {@code attempt} came to {@code outcome} and will be retried after a backoff. */
    default void onRetry(RequestContext ctx, int attempt, Outcome outcome) {}

    /** The response head is about to be sent downstream (from the upstream or a local reply); headers may be added. */
    default void onResponseHeaders(RequestContext ctx, HttpResponse response) {}

    /** The exchange is over (completed, failed, or the downstream went away); {@code log} says how it ended. */
    default void onRequestEnd(RequestContext ctx, RequestLog log) {}

    /** A downstream connection was accepted by listener {@code listenerName}. */
    default void onConnectionOpen(String listenerName, InetSocketAddress remote, InetSocketAddress local) {}

    /** A downstream connection closed, after {@code bytesReceived} / {@code bytesSent} bytes on the wire. */
    default void onConnectionClose(String listenerName, InetSocketAddress remote, InetSocketAddress local,
            long bytesReceived, long bytesSent) {}

    /**
     * A TLS handshake on a connection of listener {@code listenerName} (or to an upstream) finished:
     * {@code resumed} when the session was resumed, {@code peerPrincipal} the peer's SPIFFE ID or null. Called
     * by the transport-security provider; nothing calls it while meshproxy speaks only plaintext.
     */
    default void onTlsHandshake(String listenerName, boolean resumed, long durationNanos, String peerPrincipal) {}

    /**
     * A TLS handshake on a downstream connection of listener {@code listenerName} failed (a plaintext client on
     * a STRICT port, a refused or missing client certificate, a handshake timeout): the connection closes.
     * Envoy counts these as the listener's {@code ssl.connection_error}.
     */
    default void onTlsHandshakeFailed(String listenerName, long durationNanos) {}

    /** All of {@code listeners} in order, or {@link #NONE} when empty, or the one when there is one. */
    static RequestEventListener of(java.util.List<? extends RequestEventListener> listeners) {
        if (listeners.isEmpty()) {
            return NONE;
        }
        if (listeners.size() == 1) {
            return listeners.get(0);
        }
        RequestEventListener[] all = listeners.toArray(new RequestEventListener[0]);
        return new RequestEventListener() {
            @Override
            public void onRequestStart(RequestContext ctx, HttpRequest request) {
                for (RequestEventListener l : all) {
                    l.onRequestStart(ctx, request);
                }
            }

            @Override
            public void onUpstreamRequest(RequestContext ctx, HttpRequest request, String cluster, String host,
                    int attempt) {
                for (RequestEventListener l : all) {
                    l.onUpstreamRequest(ctx, request, cluster, host, attempt);
                }
            }

            @Override
            public void onRetry(RequestContext ctx, int attempt, Outcome outcome) {
                for (RequestEventListener l : all) {
                    l.onRetry(ctx, attempt, outcome);
                }
            }

            @Override
            public void onResponseHeaders(RequestContext ctx, HttpResponse response) {
                for (RequestEventListener l : all) {
                    l.onResponseHeaders(ctx, response);
                }
            }

            @Override
            public void onRequestEnd(RequestContext ctx, RequestLog log) {
                for (RequestEventListener l : all) {
                    l.onRequestEnd(ctx, log);
                }
            }

            @Override
            public void onConnectionOpen(String listenerName, InetSocketAddress remote, InetSocketAddress local) {
                for (RequestEventListener l : all) {
                    l.onConnectionOpen(listenerName, remote, local);
                }
            }

            @Override
            public void onConnectionClose(String listenerName, InetSocketAddress remote, InetSocketAddress local,
                    long bytesReceived, long bytesSent) {
                for (RequestEventListener l : all) {
                    l.onConnectionClose(listenerName, remote, local, bytesReceived, bytesSent);
                }
            }

            @Override
            public void onTlsHandshake(String listenerName, boolean resumed, long durationNanos, String peerPrincipal) {
                for (RequestEventListener l : all) {
                    l.onTlsHandshake(listenerName, resumed, durationNanos, peerPrincipal);
                }
            }

            @Override
            public void onTlsHandshakeFailed(String listenerName, long durationNanos) {
                for (RequestEventListener l : all) {
                    l.onTlsHandshakeFailed(listenerName, durationNanos);
                }
            }
        };
    }
}
