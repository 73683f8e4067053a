package io.meshproxy.core.config;

import java.time.Duration;

/**
 * A listener: an address and port accepting HTTP/1.1 and cleartext HTTP/2 (prior knowledge and the
 * HTTP/1.1 upgrade) on the same port, and what it does with a request: route it ({@link #routes()}) or hand
 * it to an in-process application handler registered under {@link #handler()} (exactly one of the two).
 *
 * <p>Validated on construction: the ranges below hold; null address and durations take their defaults;
 * durations are not negative. Use {@link #builder()} for the defaults of the numeric settings.
 *
 * @param name unique among listeners
 * @param address the IP address to bind (127.0.0.1 by default)
 * @param port 0..65535; 0 picks a free port
 * @param routes the route table, or null when {@code handler} is set
 * @param handler the name of an in-process handler registered on the {@code MeshProxy} builder, or null
 * @param maxRequestHeadersBytes total size of the request line and headers; beyond it 431; 1 KiB..1 MiB
 *     (default 60 KiB, as Envoy)
 * @param maxRequestBodyBytes a request body larger than this gets 413; 0 means no limit (default)
 * @param requestHeadersTimeout from the first byte of a request to its last header byte; beyond it 408;
 *     zero disables (default 10 s)
 * @param idleTimeout a downstream connection with no request in flight for this long is closed (default 1 h)
 * @param drainTimeout how long in-flight requests may run after drain starts (default 5 s)
 * @param http2MaxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS advertised downstream, at least 1
 *     (default 1024)
 * @param streamIdleTimeout a request (stream) with no bytes moving either way for this long is ended: 408
 *     before the response started, a reset after, flag SI; zero disables (default 5 min, as Envoy)
 * @param localRateLimit a token bucket for every request of this listener; null for none
 * @param tlsMode whether connections must, may or must not be mTLS (default DISABLE: plaintext); PERMISSIVE and
 *     STRICT need a {@link io.meshproxy.core.tls.TransportSecurity} registered on the proxy
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
        int http2MaxConcurrentStreams,
        Duration streamIdleTimeout,
        LocalRateLimit localRateLimit,
        DownstreamTlsMode tlsMode) {

    public static final String DEFAULT_ADDRESS = "127.0.0.1";
    public static final int DEFAULT_MAX_REQUEST_HEADERS_BYTES = 60 * 1024;
    public static final int MIN_MAX_REQUEST_HEADERS_BYTES = 1024;
    public static final int MAX_MAX_REQUEST_HEADERS_BYTES = 1024 * 1024;
    public static final Duration DEFAULT_REQUEST_HEADERS_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS = 1024;
    public static final Duration DEFAULT_STREAM_IDLE_TIMEOUT = Duration.ofMinutes(5);

    /** With the default stream idle timeout and no rate limit. */
    public ListenerConfig(String name, String address, int port, RouteConfiguration routes, String handler,
            int maxRequestHeadersBytes, long maxRequestBodyBytes, Duration requestHeadersTimeout, Duration idleTimeout,
            Duration drainTimeout, int http2MaxConcurrentStreams) {
        this(name, address, port, routes, handler, maxRequestHeadersBytes, maxRequestBodyBytes, requestHeadersTimeout,
                idleTimeout, drainTimeout, http2MaxConcurrentStreams, null, null, null);
    }

    /** Plaintext (tlsMode DISABLE). */
    public ListenerConfig(String name, String address, int port, RouteConfiguration routes, String handler,
            int maxRequestHeadersBytes, long maxRequestBodyBytes, Duration requestHeadersTimeout, Duration idleTimeout,
            Duration drainTimeout, int http2MaxConcurrentStreams, Duration streamIdleTimeout,
            LocalRateLimit localRateLimit) {
        this(name, address, port, routes, handler, maxRequestHeadersBytes, maxRequestBodyBytes, requestHeadersTimeout,
                idleTimeout, drainTimeout, http2MaxConcurrentStreams, streamIdleTimeout, localRateLimit, null);
    }

    public ListenerConfig {
        Checks.nonBlank("name", name);
        address = address == null ? DEFAULT_ADDRESS : Checks.nonBlank("address", address);
        Checks.inRange("port", port, 0, 65535);
        if ((routes == null) == (handler == null)) {
            throw Checks.fail("routes, handler", "exactly one must be set, "
                    + (routes == null ? "neither is" : "both are"));
        }
        Checks.nullOrNonBlank("handler", handler);
        Checks.inRange("maxRequestHeadersBytes", maxRequestHeadersBytes, MIN_MAX_REQUEST_HEADERS_BYTES,
                MAX_MAX_REQUEST_HEADERS_BYTES);
        Checks.atLeast("maxRequestBodyBytes", maxRequestBodyBytes, 0);
        requestHeadersTimeout = Checks.duration("requestHeadersTimeout", requestHeadersTimeout,
                DEFAULT_REQUEST_HEADERS_TIMEOUT);
        idleTimeout = Checks.duration("idleTimeout", idleTimeout, DEFAULT_IDLE_TIMEOUT);
        drainTimeout = Checks.duration("drainTimeout", drainTimeout, DEFAULT_DRAIN_TIMEOUT);
        Checks.atLeast("http2MaxConcurrentStreams", http2MaxConcurrentStreams, 1);
        streamIdleTimeout = Checks.duration("streamIdleTimeout", streamIdleTimeout, DEFAULT_STREAM_IDLE_TIMEOUT);
        tlsMode = tlsMode == null ? DownstreamTlsMode.DISABLE : tlsMode;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ListenerConfig}: a name and one of routes or handler are required, the rest has defaults. */
    public static final class Builder {
        private String name;
        private String address = DEFAULT_ADDRESS;
        private int port;
        private RouteConfiguration routes;
        private String handler;
        private int maxRequestHeadersBytes = DEFAULT_MAX_REQUEST_HEADERS_BYTES;
        private long maxRequestBodyBytes;
        private Duration requestHeadersTimeout = DEFAULT_REQUEST_HEADERS_TIMEOUT;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
        private int http2MaxConcurrentStreams = DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS;
        private Duration streamIdleTimeout = DEFAULT_STREAM_IDLE_TIMEOUT;
        private LocalRateLimit localRateLimit;
        private DownstreamTlsMode tlsMode = DownstreamTlsMode.DISABLE;

        private Builder() {}

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder address(String address) {
            this.address = address;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Routes requests with {@code routes}. */
        public Builder routes(RouteConfiguration routes) {
            this.routes = routes;
            return this;
        }

        /** Hands requests to the in-process handler registered under {@code handler}. */
        public Builder handler(String handler) {
            this.handler = handler;
            return this;
        }

        public Builder maxRequestHeadersBytes(int maxRequestHeadersBytes) {
            this.maxRequestHeadersBytes = maxRequestHeadersBytes;
            return this;
        }

        public Builder maxRequestBodyBytes(long maxRequestBodyBytes) {
            this.maxRequestBodyBytes = maxRequestBodyBytes;
            return this;
        }

        public Builder requestHeadersTimeout(Duration requestHeadersTimeout) {
            this.requestHeadersTimeout = requestHeadersTimeout;
            return this;
        }

        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return this;
        }

        public Builder drainTimeout(Duration drainTimeout) {
            this.drainTimeout = drainTimeout;
            return this;
        }

        public Builder http2MaxConcurrentStreams(int http2MaxConcurrentStreams) {
            this.http2MaxConcurrentStreams = http2MaxConcurrentStreams;
            return this;
        }

        public Builder streamIdleTimeout(Duration streamIdleTimeout) {
            this.streamIdleTimeout = streamIdleTimeout;
            return this;
        }

        public Builder localRateLimit(LocalRateLimit localRateLimit) {
            this.localRateLimit = localRateLimit;
            return this;
        }

        public Builder tlsMode(DownstreamTlsMode tlsMode) {
            this.tlsMode = tlsMode;
            return this;
        }

        public ListenerConfig build() {
            return new ListenerConfig(name, address, port, routes, handler, maxRequestHeadersBytes,
                    maxRequestBodyBytes, requestHeadersTimeout, idleTimeout, drainTimeout, http2MaxConcurrentStreams,
                    streamIdleTimeout, localRateLimit, tlsMode);
        }
    }
}
