package io.meshproxy.core.config;

/**
 * How connections to each endpoint of a cluster are used (the per-connection half of Istio's
 * {@code connectionPool}; the cluster-wide limits are {@link CircuitBreakers}).
 *
 * @param maxRequestsPerConnection a connection is closed after this many requests; 0 for no limit (default)
 * @param maxConcurrentStreams HTTP/2 streams per upstream connection, at most; 0 means the peer's
 *     SETTINGS_MAX_CONCURRENT_STREAMS alone (default)
 * @param tcpKeepalive keep-alive probes; null for none (default)
 */
public record ConnectionPoolConfig(int maxRequestsPerConnection, int maxConcurrentStreams, TcpKeepalive tcpKeepalive) {
    public static final ConnectionPoolConfig DEFAULT = new ConnectionPoolConfig(0, 0, null);

    public ConnectionPoolConfig {
        Checks.atLeast("maxRequestsPerConnection", maxRequestsPerConnection, 0);
        Checks.atLeast("maxConcurrentStreams", maxConcurrentStreams, 0);
    }
}
