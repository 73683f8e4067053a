package io.meshproxy.core.internal.transport;

import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.UpstreamProtocol;

/** RetryTest's configurations for tests in other packages. */
public final class RetryTestSupport {
    private RetryTestSupport() {}

    /** Listener "in" routing everything to cluster "backend" of 127.0.0.1 {@code ports}, with {@code retry}. */
    public static ProxyConfig config(RetryPolicy retry, UpstreamProtocol protocol, int... ports) {
        return RetryTest.config(retry, RetryTest.endpoints(protocol, ports));
    }
}
