package io.meshproxy.telemetry.accesslog;

import io.meshproxy.core.filter.RequestLog;
import java.net.InetSocketAddress;

/**
 * What one access log line says, captured on the event loop at the end of the request and formatted later by
 * the writer thread. Every part is immutable (the {@link RequestLog} record, strings, addresses), so handing
 * it to another thread needs no copy.
 *
 * @param log the finished exchange as proxy-core recorded it
 * @param startEpochMicros wall-clock start ({@code %START_TIME%})
 * @param upstreamServiceTimeMillis Envoy's {@code x-envoy-upstream-service-time}, or -1 without an upstream answer
 * @param xForwardedFor the request's {@code x-forwarded-for}, or null
 * @param userAgent the request's {@code user-agent}, or null
 * @param attempts upstream attempts ({@code %UPSTREAM_REQUEST_ATTEMPT_COUNT%}), 0 when none went upstream
 * @param downstreamRemote the downstream peer, null in-process
 * @param downstreamLocal the listener's address, null in-process
 * @param downstreamPeerPrincipal the downstream peer's principal from its mTLS certificate (proxy-core's form,
 *     {@code cluster.local/ns/NS/sa/SA}), or null
 * @param upstreamPeerPrincipal the upstream's principal from its TLS certificate (same form), or null
 */
record AccessLogEntry(RequestLog log, long startEpochMicros, long upstreamServiceTimeMillis, String xForwardedFor,
        String userAgent, int attempts, InetSocketAddress downstreamRemote, InetSocketAddress downstreamLocal,
        String downstreamPeerPrincipal, String upstreamPeerPrincipal) {}
