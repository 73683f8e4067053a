package io.meshproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Whole-configuration checks: cross references, reported all at once. */
class ConfigValidationTest {

    private static Route forward(RouteAction action) {
        return Route.builder().action(action).build();
    }

    private static ListenerConfig listener(String name, String address, int port, Route... routes) {
        return ListenerConfig.builder().name(name).address(address).port(port)
                .routes(RouteConfiguration.builder().name(name + "-routes")
                        .virtualHost(VirtualHost.builder().name("vh").domain("*").routes(List.of(routes)).build())
                        .build())
                .build();
    }

    private static ClusterConfig reviews() {
        return ClusterConfig.builder().name("reviews")
                .endpoint(EndpointConfig.builder().address("10.0.0.1").port(9080).label("version", "v1").build())
                .endpoint(EndpointConfig.builder().address("10.0.0.2").port(9080).label("version", "v2").build())
                .subset("v1", Map.of("version", "v1"))
                .subset("v2", Map.of("version", "v2"))
                .build();
    }

    @Test
    void validConfigIsAccepted() {
        ProxyConfig config = ProxyConfig.builder()
                .listener(listener("in", "127.0.0.1", 15006, forward(RouteAction.builder()
                        .weightedCluster("reviews", "v1", 90).weightedCluster("reviews", "v2", 10).build())))
                .listener(listener("out", "127.0.0.1", 15001, forward(RouteAction.to("reviews"))))
                .listener(ListenerConfig.builder().name("app").port(0).handler("app").build())
                .listener(ListenerConfig.builder().name("app2").port(0).handler("app").build())
                .cluster(reviews())
                .cluster(ClusterConfig.builder().name("empty").subset("v1", Map.of("version", "v1")).build())
                .admin(new AdminConfig(null, 15000))
                .build();
        assertSame(config.clusters().get(0), config.cluster("reviews"));
        assertEquals(4, config.listeners().size());
    }

    @Test
    void reportsEveryErrorAtOnceWithItsLocation() {
        ClusterConfig noMatch = ClusterConfig.builder().name("ratings")
                .endpoint(EndpointConfig.builder().address("10.0.1.1").port(9080).label("version", "v1").build())
                .subset("canary", Map.of("version", "v3", "track", "canary"))
                .build();
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.builder()
                .listener(listener("in", "127.0.0.1", 8080, forward(RouteAction.to("reviews")),
                        forward(RouteAction.builder().cluster("details")
                                .weightedCluster("reviews", "v3", 1).build())))
                .listener(listener("in", "127.0.0.1", 8081, forward(RouteAction.to("reviews"))))
                .listener(listener("other", "0.0.0.0", 8080, forward(RouteAction.to("reviews"))))
                .cluster(reviews())
                .cluster(noMatch)
                .cluster(ClusterConfig.builder().name("reviews").build())
                .admin(new AdminConfig("127.0.0.1", 8081))
                .build());
        assertEquals(List.of(
                "listeners[1] 'in': duplicate listener name, also listeners[0]",
                "listeners[2] 'other'.port: 8080 on 0.0.0.0 is already bound by listeners[0] 'in' on 127.0.0.1",
                "admin.port: 8081 is also the port of listeners[1] 'in'",
                "clusters[1] 'ratings'.subsets[0] 'canary': selects no endpoint of the cluster "
                        + "(labels {track=canary, version=v3})",
                "clusters[2] 'reviews': duplicate cluster name, also clusters[0]",
                "listeners[0] 'in'.routes.virtualHosts[0].routes[1].action.clusters[0].cluster: "
                        + "unknown cluster 'details'",
                "listeners[0] 'in'.routes.virtualHosts[0].routes[1].action.clusters[1].subset: "
                        + "cluster 'reviews' defines no subset 'v3'"),
                e.errors());
        assertEquals(String.join("\n", e.errors()), e.getMessage());
    }

    @Test
    void samePortOnDifferentAddressesIsAllowed() {
        ProxyConfig config = ProxyConfig.builder()
                .listener(listener("a", "127.0.0.1", 8080, forward(RouteAction.to("reviews"))))
                .listener(listener("b", "127.0.0.2", 8080, forward(RouteAction.to("reviews"))))
                .cluster(reviews())
                .build();
        assertEquals(2, config.listeners().size());
    }

    @Test
    void nullListIsEmptyAndNullElementIsAnError() {
        assertEquals(List.of(), new ProxyConfig(null, null, null).listeners());
        ConfigException e = assertThrows(ConfigException.class,
                () -> new ProxyConfig(java.util.Arrays.asList((ListenerConfig) null), List.of(), null));
        assertEquals(List.of("listeners[0]: must not be null"), e.errors());
    }
}
