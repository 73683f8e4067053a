package io.meshproxy.core.upstream;

import io.meshproxy.core.config.LbPolicy;
import java.util.List;

/** Placeholder until the balancers land. */
final class LoadBalancers {
    private LoadBalancers() {}

    static LoadBalancer create(LbPolicy policy, List<Host> hosts) {
        throw new UnsupportedOperationException("not yet");
    }
}
