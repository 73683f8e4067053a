package io.meshproxy.core.resilience;

import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.FaultPolicy;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.LocalRateLimit;
import io.meshproxy.core.config.PathMatch;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;

/** Configurations for the fault and rate-limit tests: listener "in", cluster "backend" of one upstream. */
final class ResilienceConfigs {
    private ResilienceConfigs() {}

    /** A route for paths under {@code prefix} to "backend", with a fault and a rate limit (either may be null). */
    static Route route(String prefix, FaultPolicy fault, LocalRateLimit rateLimit) {
        return Route.builder().name(prefix.equals("/") ? "all" : prefix.substring(1))
                .match(RouteMatch.builder().path(PathMatch.prefix(prefix)).build())
                .action(RouteAction.builder().cluster("backend").fault(fault).rateLimit(rateLimit).build())
                .build();
    }

    /** Listener "in" (with {@code listenerLimit}, may be null) over {@code routes}, cluster "backend" of {@code up}. */
    static ProxyConfig config(TestUpstream up, UpstreamProtocol protocol, LocalRateLimit listenerLimit,
            Route... routes) {
        VirtualHost.Builder vh = VirtualHost.builder().name("all").domain("*");
        for (Route r : routes) {
            vh.route(r);
        }
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).localRateLimit(listenerLimit)
                        .routes(RouteConfiguration.builder().name("routes").virtualHost(vh.build()).build()).build())
                .cluster(Configs.cluster("backend", protocol, up))
                .admin(new AdminConfig("127.0.0.1", 0))
                .build();
    }
}
