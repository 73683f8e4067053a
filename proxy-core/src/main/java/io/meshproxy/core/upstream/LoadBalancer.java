package io.meshproxy.core.upstream;

import io.meshproxy.core.config.LbPolicy;
import java.util.List;

/**
 * Picks a host for a request. One instance per event loop (and per cluster or subset), so a pick needs no
 * lock; it reads the shared {@link Host} counters. Unhealthy hosts are skipped.
 */
public interface LoadBalancer {

    /** A healthy host, or null when none is healthy (the router answers 503 UH). */
    Host pick();

    /** A balancer of the given policy over {@code hosts}, honouring their weights. */
    static LoadBalancer create(LbPolicy policy, List<Host> hosts) {
        return LoadBalancers.create(policy, hosts);
    }
}
