package io.meshproxy.core.testing;

import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.VirtualHost;

/** Small configurations for tests: one listener on a free port routing everything to one cluster. */
public final class Configs {
    private Configs() {}

    /** A route table sending every host and path to {@code cluster}. */
    public static RouteConfiguration allTo(String cluster) {
        return RouteConfiguration.builder().name("routes").virtualHost(VirtualHost.builder().name("all").domain("*")
                .route(Route.builder().name("default").action(RouteAction.to(cluster)).build()).build()).build();
    }

    /** A cluster of the given upstreams (all weight 1). */
    public static ClusterConfig cluster(String name, UpstreamProtocol protocol, TestUpstream... upstreams) {
        ClusterConfig.Builder b = ClusterConfig.builder().name(name).protocol(protocol);
        for (TestUpstream u : upstreams) {
            b.endpoint("127.0.0.1", u.port());
        }
        return b.build();
    }

    /** Like {@link #simple(UpstreamProtocol, TestUpstream...)} for upstreams known only by port on 127.0.0.1. */
    public static ProxyConfig simple(UpstreamProtocol protocol, int... upstreamPorts) {
        ClusterConfig.Builder b = ClusterConfig.builder().name("backend").protocol(protocol);
        for (int port : upstreamPorts) {
            b.endpoint("127.0.0.1", port);
        }
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(allTo("backend")).build())
                .cluster(b.build())
                .admin(new AdminConfig("127.0.0.1", 0))
                .build();
    }

    /** Listener "in" on a free port, everything to cluster "backend" of {@code upstreams}; admin on a free port. */
    public static ProxyConfig simple(UpstreamProtocol protocol, TestUpstream... upstreams) {
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(allTo("backend")).build())
                .cluster(cluster("backend", protocol, upstreams))
                .admin(new AdminConfig("127.0.0.1", 0))
                .build();
    }
}
