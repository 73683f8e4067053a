package io.meshproxy.core.upstream;

import io.meshproxy.core.config.LbPolicy;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Picks a host for a request. One instance per event loop (and per cluster or subset), so a pick needs no
 * lock; it reads the shared {@link Host} counters. Unhealthy hosts are skipped. Health and active-request
 * counts are read at pick time, so a host that turns unhealthy stops being picked at the next pick and is
 * picked again once healthy. Picks allocate nothing.
 *
 * <p><b>Panic mode</b> (Envoy's {@code healthy_panic_threshold}): a balancer given a panic threshold of P
 * percent ignores health while fewer than P percent of its hosts are healthy, and spreads requests over all of
 * them, so that a few healthy hosts are not crushed by the whole load (and a wrongly failed health check does
 * not take the whole service down). A threshold of 0 disables panic; the balancers built without one never
 * panic.
 *
 * <p>Every policy honours endpoint weights: {@link LbPolicy#ROUND_ROBIN} is smooth weighted round robin,
 * {@link LbPolicy#LEAST_REQUEST} is power of two choices (equal weights) or a smooth pick over
 * {@code weight / (activeRequests + 1)} (unequal weights), {@link LbPolicy#RANDOM} is weighted random.
 */
public interface LoadBalancer {

    /**
     * A healthy host (any host while in panic mode), or null when none is healthy and panic is disabled (the
     * router answers 503 UH).
     */
    Host pick();

    /** A balancer of the given policy over {@code hosts}, honouring their weights. */
    static LoadBalancer create(LbPolicy policy, List<Host> hosts) {
        return LoadBalancers.create(policy, hosts);
    }

    /**
     * As {@link #create(LbPolicy, List)}, but every random choice (including round robin's starting offset)
     * comes from {@code random}, for reproducible tests. The generator then belongs to the balancer and is
     * used only on the thread that picks; null means {@link java.util.concurrent.ThreadLocalRandom}.
     */
    static LoadBalancer create(LbPolicy policy, List<Host> hosts, RandomGenerator random) {
        return LoadBalancers.create(policy, hosts, random);
    }

    /**
     * A balancer of the given policy over {@code hosts} that enters panic mode when fewer than
     * {@code panicThresholdPercent} percent of them are healthy (0: never).
     */
    static LoadBalancer create(LbPolicy policy, List<Host> hosts, int panicThresholdPercent) {
        return LoadBalancers.create(policy, hosts, null, panicThresholdPercent);
    }
}
