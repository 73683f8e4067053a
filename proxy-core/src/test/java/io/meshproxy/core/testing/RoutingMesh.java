package io.meshproxy.core.testing;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.HeaderMatcher;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.RedirectAction;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.DirectResponseAction;
import io.meshproxy.core.config.VirtualHost;
import java.util.List;
import java.util.Map;

/**
 * Five {@link TestUpstream}s and one route table exercising every kind of route, shared by the listener
 * acceptance tests and the in-process client tests so that both entry points see the same configuration.
 *
 * <p>Listener {@value #LISTENER}, one virtual host {@code *}, routes in order:
 * <ol>
 *   <li>header {@code x-canary: true} (any path): cluster {@code canary} (upstream "canary");
 *   <li>prefix {@code /split}: 90 to {@code stable}, 10 to {@code canary};
 *   <li>prefix {@code /v1}, {@code /v2}: subsets {@code v1} / {@code v2} of cluster {@code versions}
 *       (upstreams "v1a" and "v1b" labelled {@code version=v1}, "v2" labelled {@code version=v2});
 *   <li>exact {@code /redirect}: 302 to {@code http://new.example.com/moved};
 *   <li>exact {@code /direct}: 403 {@value #DIRECT_BODY};
 *   <li>prefix {@code /empty}: cluster {@code empty}, which has no endpoints (503 UH);
 *   <li>{@code /stable...}, {@code /echo...}, {@code /bytes...}, {@code /headers...}: cluster {@code stable}.
 * </ol>
 * Anything else has no route (404 NR).
 */
public final class RoutingMesh implements AutoCloseable {
    public static final String LISTENER = "out";
    public static final String DIRECT_BODY = "denied by route";
    public static final String REDIRECT_LOCATION = "http://new.example.com/moved";

    public final TestUpstream stable;
    public final TestUpstream canary;
    public final TestUpstream v1a;
    public final TestUpstream v1b;
    public final TestUpstream v2;

    private RoutingMesh() throws InterruptedException {
        stable = TestUpstream.start("stable");
        canary = TestUpstream.start("canary");
        v1a = TestUpstream.start("v1a");
        v1b = TestUpstream.start("v1b");
        v2 = TestUpstream.start("v2");
    }

    public static RoutingMesh start() throws InterruptedException {
        return new RoutingMesh();
    }

    public List<TestUpstream> upstreams() {
        return List.of(stable, canary, v1a, v1b, v2);
    }

    /** Requests received by all upstreams together. */
    public int upstreamRequests() {
        return upstreams().stream().mapToInt(TestUpstream::requestsReceived).sum();
    }

    public ProxyConfig config() {
        return config(new ListenerConfig[0]);
    }

    /** The configuration above plus {@code extraListeners} (an inbound listener with a handler, say). */
    public ProxyConfig config(ListenerConfig... extraListeners) {
        VirtualHost vhost = VirtualHost.builder().name("all").domain("*")
                .route(Route.builder().name("canary-header")
                        .match(RouteMatch.builder().header(HeaderMatcher.exact("x-canary", "true")).build())
                        .action(RouteAction.to("canary")).build())
                .route(Route.builder().name("split")
                        .match(RouteMatch.builder().pathPrefix("/split").build())
                        .action(RouteAction.builder().weightedCluster("stable", null, 90)
                                .weightedCluster("canary", null, 10).build()).build())
                .route(Route.builder().name("v1")
                        .match(RouteMatch.builder().pathPrefix("/v1").build())
                        .action(RouteAction.builder().weightedCluster("versions", "v1", 1).build()).build())
                .route(Route.builder().name("v2")
                        .match(RouteMatch.builder().pathPrefix("/v2").build())
                        .action(RouteAction.builder().weightedCluster("versions", "v2", 1).build()).build())
                .route(Route.builder().name("redirect")
                        .match(RouteMatch.builder().pathExact("/redirect").build())
                        .action(RedirectAction.builder().host("new.example.com").pathRedirect("/moved")
                                .responseCode(302).build()).build())
                .route(Route.builder().name("direct")
                        .match(RouteMatch.builder().pathExact("/direct").build())
                        .action(DirectResponseAction.of(403, DIRECT_BODY)).build())
                .route(Route.builder().name("empty")
                        .match(RouteMatch.builder().pathPrefix("/empty").build())
                        .action(RouteAction.to("empty")).build())
                .route(Route.builder().name("stable")
                        .match(RouteMatch.builder().pathRegex("/(stable|echo|bytes|headers).*").build())
                        .action(RouteAction.to("stable")).build())
                .build();
        ProxyConfig.Builder b = ProxyConfig.builder()
                .listener(ListenerConfig.builder().name(LISTENER).port(0)
                        .routes(RouteConfiguration.builder().name("outbound").virtualHost(vhost).build()).build());
        for (ListenerConfig l : extraListeners) {
            b.listener(l);
        }
        return b
                .cluster(ClusterConfig.builder().name("stable").endpoint("127.0.0.1", stable.port()).build())
                .cluster(ClusterConfig.builder().name("canary").endpoint("127.0.0.1", canary.port()).build())
                .cluster(ClusterConfig.builder().name("versions")
                        .endpoint(labelled(v1a, "v1")).endpoint(labelled(v1b, "v1")).endpoint(labelled(v2, "v2"))
                        .subset("v1", Map.of("version", "v1"))
                        .subset("v2", Map.of("version", "v2"))
                        .build())
                .cluster(ClusterConfig.builder().name("empty").build())
                .build();
    }

    private static EndpointConfig labelled(TestUpstream u, String version) {
        return EndpointConfig.builder().address("127.0.0.1").port(u.port()).label("version", version).build();
    }

    @Override
    public void close() {
        upstreams().forEach(TestUpstream::close);
    }
}
