package io.meshproxy.core.upstream;

import io.meshproxy.core.config.LbPolicy;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.random.RandomGenerator;

/** Builds the balancer for a policy; shared bits of the balancers. */
final class LoadBalancers {
    private LoadBalancers() {}

    static LoadBalancer create(LbPolicy policy, List<Host> hosts) {
        return create(policy, hosts, null);
    }

    /**
     * A balancer of {@code policy} over a copy of {@code hosts}. {@code random} is used for every random
     * choice when non-null (it is then owned by the balancer, on one thread); when null, each random choice
     * uses {@link ThreadLocalRandom#current()} of the thread that makes it.
     */
    static LoadBalancer create(LbPolicy policy, List<Host> hosts, RandomGenerator random) {
        return create(policy, hosts, random, 0);
    }

    /**
     * As {@link #create(LbPolicy, List, RandomGenerator)}, in panic mode when fewer than {@code panicThreshold}
     * percent of the hosts are healthy (0 disables panic).
     */
    static LoadBalancer create(LbPolicy policy, List<Host> hosts, RandomGenerator random, int panicThreshold) {
        return create(policy, hosts, random, panicThreshold, null);
    }

    /** As above, counting every pick made in panic mode in {@code panicPicks} (Envoy's {@code lb_healthy_panic}). */
    static LoadBalancer create(LbPolicy policy, List<Host> hosts, RandomGenerator random, int panicThreshold,
            LongAdder panicPicks) {
        Objects.requireNonNull(policy, "policy");
        Host[] array = hosts.toArray(new Host[0]);
        for (Host h : array) {
            Objects.requireNonNull(h, "host");
        }
        HealthSnapshot health = new HealthSnapshot(array, panicThreshold, panicPicks);
        return switch (policy) {
            case ROUND_ROBIN -> new RoundRobinBalancer(array, random(random), health);
            case LEAST_REQUEST -> new LeastRequestBalancer(array, random, health);
            case RANDOM -> new RandomBalancer(array, random, health);
        };
    }

    /** The injected generator, or the calling thread's {@link ThreadLocalRandom}. */
    static RandomGenerator random(RandomGenerator injected) {
        return injected != null ? injected : ThreadLocalRandom.current();
    }

    /** Whether every host has the same weight (true for no hosts). */
    static boolean equalWeights(Host[] hosts) {
        for (int i = 1; i < hosts.length; i++) {
            if (hosts[i].weight() != hosts[0].weight()) {
                return false;
            }
        }
        return true;
    }
}
