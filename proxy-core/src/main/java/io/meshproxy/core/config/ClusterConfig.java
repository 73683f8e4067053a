package io.meshproxy.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A cluster: a named set of equivalent upstream endpoints and how to reach them.
 *
 * <p>Validated on construction: {@code name} not blank; null lists become empty (a cluster without endpoints
 * is legal: the router answers 503 UH); no endpoint address:port appears twice; subset names are unique;
 * null policy, protocol and durations take their defaults; durations are not negative. That every subset
 * selects at least one endpoint is checked for the whole {@link ProxyConfig}.
 *
 * @param name unique among clusters
 * @param endpoints the upstream endpoints; may be empty
 * @param subsets named label selectors (Istio's DestinationRule subsets); a subset selects every endpoint
 *     whose labels include all of its labels
 * @param lbPolicy how requests are spread over endpoints (default ROUND_ROBIN)
 * @param protocol the protocol spoken to endpoints (default HTTP1)
 * @param connectTimeout TCP connect timeout (default 10 s, Istio's default)
 * @param idleTimeout an upstream connection unused for this long is closed (default 1 h, as Envoy)
 * @param circuitBreakers cluster-wide limits (default {@link CircuitBreakers#DEFAULT}, Envoy's)
 * @param connectionPool per-connection settings (default {@link ConnectionPoolConfig#DEFAULT})
 * @param outlierDetection passive health checking; null for none (default)
 * @param failureRateBreaker a Resilience4j failure-rate breaker; null for none (default)
 * @param healthCheck active health checking; null for none (default)
 * @param tls TLS toward the endpoints; null for plaintext (default); needs a
 *     {@link io.meshproxy.core.tls.TransportSecurity} registered on the proxy
 */
public record ClusterConfig(String name, List<EndpointConfig> endpoints, List<SubsetConfig> subsets,
        LbPolicy lbPolicy, UpstreamProtocol protocol, Duration connectTimeout, Duration idleTimeout,
        CircuitBreakers circuitBreakers, ConnectionPoolConfig connectionPool, OutlierDetection outlierDetection,
        FailureRateBreaker failureRateBreaker, HealthCheck healthCheck, UpstreamTls tls) {

    /** With default limits and no outlier detection, breaker or health check. */
    public ClusterConfig(String name, List<EndpointConfig> endpoints, List<SubsetConfig> subsets,
            LbPolicy lbPolicy, UpstreamProtocol protocol, Duration connectTimeout, Duration idleTimeout) {
        this(name, endpoints, subsets, lbPolicy, protocol, connectTimeout, idleTimeout, null, null, null, null, null,
                null);
    }

    /** Plaintext toward the endpoints. */
    public ClusterConfig(String name, List<EndpointConfig> endpoints, List<SubsetConfig> subsets,
            LbPolicy lbPolicy, UpstreamProtocol protocol, Duration connectTimeout, Duration idleTimeout,
            CircuitBreakers circuitBreakers, ConnectionPoolConfig connectionPool, OutlierDetection outlierDetection,
            FailureRateBreaker failureRateBreaker, HealthCheck healthCheck) {
        this(name, endpoints, subsets, lbPolicy, protocol, connectTimeout, idleTimeout, circuitBreakers,
                connectionPool, outlierDetection, failureRateBreaker, healthCheck, null);
    }

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);

    public ClusterConfig {
        Checks.nonBlank("name", name);
        endpoints = Checks.list("endpoints", endpoints);
        Map<String, Integer> hostPorts = new HashMap<>();
        for (int i = 0; i < endpoints.size(); i++) {
            EndpointConfig e = endpoints.get(i);
            String hostPort = e.address() + ":" + e.port();
            Integer first = hostPorts.putIfAbsent(hostPort, i);
            if (first != null) {
                throw Checks.fail("endpoints[" + i + "]", "duplicate endpoint " + hostPort + ", also endpoints[" + first + "]");
            }
        }
        subsets = Checks.list("subsets", subsets);
        Map<String, Integer> subsetNames = new HashMap<>();
        for (int i = 0; i < subsets.size(); i++) {
            Integer first = subsetNames.putIfAbsent(subsets.get(i).name(), i);
            if (first != null) {
                throw Checks.fail("subsets[" + i + "].name",
                        "duplicate subset name '" + subsets.get(i).name() + "', also subsets[" + first + "]");
            }
        }
        lbPolicy = lbPolicy == null ? LbPolicy.ROUND_ROBIN : lbPolicy;
        protocol = protocol == null ? UpstreamProtocol.HTTP1 : protocol;
        connectTimeout = Checks.duration("connectTimeout", connectTimeout, DEFAULT_CONNECT_TIMEOUT);
        idleTimeout = Checks.duration("idleTimeout", idleTimeout, DEFAULT_IDLE_TIMEOUT);
        circuitBreakers = circuitBreakers == null ? CircuitBreakers.DEFAULT : circuitBreakers;
        connectionPool = connectionPool == null ? ConnectionPoolConfig.DEFAULT : connectionPool;
    }

    /** The subset called {@code name}, or null. */
    public SubsetConfig subset(String name) {
        for (SubsetConfig s : subsets) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ClusterConfig}; a name is required, everything else has a default. */
    public static final class Builder {
        private String name;
        private final List<EndpointConfig> endpoints = new ArrayList<>();
        private final List<SubsetConfig> subsets = new ArrayList<>();
        private LbPolicy lbPolicy = LbPolicy.ROUND_ROBIN;
        private UpstreamProtocol protocol = UpstreamProtocol.HTTP1;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private CircuitBreakers circuitBreakers = CircuitBreakers.DEFAULT;
        private ConnectionPoolConfig connectionPool = ConnectionPoolConfig.DEFAULT;
        private OutlierDetection outlierDetection;
        private FailureRateBreaker failureRateBreaker;
        private HealthCheck healthCheck;
        private UpstreamTls tls;

        private Builder() {}

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Replaces all endpoints. */
        public Builder endpoints(List<EndpointConfig> endpoints) {
            this.endpoints.clear();
            this.endpoints.addAll(endpoints);
            return this;
        }

        /** Adds an endpoint. */
        public Builder endpoint(EndpointConfig endpoint) {
            endpoints.add(endpoint);
            return this;
        }

        /** Adds an endpoint of weight 1 without labels. */
        public Builder endpoint(String address, int port) {
            String field = "endpoints[" + endpoints.size() + "]";
            endpoints.add(Checks.prefixed(field, () -> EndpointConfig.of(address, port)));
            return this;
        }

        /** Replaces all subsets. */
        public Builder subsets(List<SubsetConfig> subsets) {
            this.subsets.clear();
            this.subsets.addAll(subsets);
            return this;
        }

        /** Adds a subset. */
        public Builder subset(SubsetConfig subset) {
            subsets.add(subset);
            return this;
        }

        /** Adds a subset called {@code name} selecting the endpoints that carry all of {@code labels}. */
        public Builder subset(String name, Map<String, String> labels) {
            String field = "subsets[" + subsets.size() + "]";
            subsets.add(Checks.prefixed(field, () -> new SubsetConfig(name, labels)));
            return this;
        }

        public Builder lbPolicy(LbPolicy lbPolicy) {
            this.lbPolicy = lbPolicy;
            return this;
        }

        public Builder protocol(UpstreamProtocol protocol) {
            this.protocol = protocol;
            return this;
        }

        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return this;
        }

        public Builder circuitBreakers(CircuitBreakers circuitBreakers) {
            this.circuitBreakers = circuitBreakers;
            return this;
        }

        public Builder connectionPool(ConnectionPoolConfig connectionPool) {
            this.connectionPool = connectionPool;
            return this;
        }

        public Builder outlierDetection(OutlierDetection outlierDetection) {
            this.outlierDetection = outlierDetection;
            return this;
        }

        public Builder failureRateBreaker(FailureRateBreaker failureRateBreaker) {
            this.failureRateBreaker = failureRateBreaker;
            return this;
        }

        public Builder healthCheck(HealthCheck healthCheck) {
            this.healthCheck = healthCheck;
            return this;
        }

        public Builder tls(UpstreamTls tls) {
            this.tls = tls;
            return this;
        }

        public ClusterConfig build() {
            return new ClusterConfig(name, endpoints, subsets, lbPolicy, protocol, connectTimeout, idleTimeout,
                    circuitBreakers, connectionPool, outlierDetection, failureRateBreaker, healthCheck, tls);
        }
    }
}
