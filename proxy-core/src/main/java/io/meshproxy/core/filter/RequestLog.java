package io.meshproxy.core.filter;

/**
 * The record of one finished exchange, as an access log line would show it.
 *
 * @param responseCode the status sent downstream, 0 if none was sent (downstream went away first)
 * @param responseFlags Envoy's flags, comma-separated, "-" when none
 * @param responseCodeDetails why the response is what it is ("via_upstream", "route_not_found", ...)
 * @param bytesReceived request body bytes received from downstream
 * @param bytesSent response body bytes sent downstream
 * @param durationNanos from request headers to the end of the response (or the reset)
 */
public record RequestLog(
        String listenerName,
        String protocol,
        String method,
        String authority,
        String path,
        String requestId,
        String routeName,
        String upstreamCluster,
        String upstreamHost,
        int responseCode,
        String responseFlags,
        String responseCodeDetails,
        long bytesReceived,
        long bytesSent,
        long durationNanos) {}
