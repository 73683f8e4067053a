package io.meshproxy.core.config;

import java.time.Duration;

/**
 * A listener: an address and port accepting HTTP/1.1 and cleartext HTTP/2 (prior knowledge and the
 * HTTP/1.1 upgrade) on the same port, and what it does with a request: route it ({@link #routes()}) or hand
 * it to an in-process application handler registered under {@link #handler()} (exactly one of the two).
 *
 * @param name unique among listeners
 * @param address the IP address to bind (127.0.0.1 by default)
 * @param port 0..65535; 0 picks a free port
 * @param routes the route table, or null when {@code handler} is set
 * @param handler the name of an in-process handler registered on the {@code MeshProxy} builder, or null
 * @param maxRequestHeadersBytes total size of the request line and headers; beyond it 431 (default 60 KiB, as Envoy)
 * @param maxRequestBodyBytes a request body larger than this gets 413; 0 means no limit (default)
 * @param requestHeadersTimeout from the first byte of a request to its last header byte; beyond it 408;
 *     zero disables (default 10 s)
 * @param idleTimeout a downstream connection with no request in flight for this long is closed (default 1 h)
 * @param drainTimeout how long in-flight requests may run after drain starts (default 5 s)
 * @param http2MaxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS advertised downstream (default 1024)
 */
public record ListenerConfig(
        String name,
        String address,
        int port,
        RouteConfiguration routes,
        String handler,
        int maxRequestHeadersBytes,
        long maxRequestBodyBytes,
        Duration requestHeadersTimeout,
        Duration idleTimeout,
        Duration drainTimeout,
        int http2MaxConcurrentStreams) {}
