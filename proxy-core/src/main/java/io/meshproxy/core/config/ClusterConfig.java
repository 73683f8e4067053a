package io.meshproxy.core.config;

import java.time.Duration;
import java.util.List;

/**
 * A cluster: a named set of equivalent upstream endpoints and how to reach them.
 *
 * @param subsets named label selectors (Istio's DestinationRule subsets); a subset selects every endpoint
 *     whose labels include all of its labels
 * @param connectTimeout TCP connect timeout (default 10 s, Istio's default)
 * @param idleTimeout an upstream connection unused for this long is closed (default 1 h, as Envoy)
 */
public record ClusterConfig(String name, List<EndpointConfig> endpoints, List<SubsetConfig> subsets,
        LbPolicy lbPolicy, UpstreamProtocol protocol, Duration connectTimeout, Duration idleTimeout) {

    /** The subset called {@code name}, or null. */
    public SubsetConfig subset(String name) {
        for (SubsetConfig s : subsets) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }
}
