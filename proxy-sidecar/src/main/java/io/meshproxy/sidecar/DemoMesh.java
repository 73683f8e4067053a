package io.meshproxy.sidecar;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.DirectResponseAction;
import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.HeaderMatcher;
import io.meshproxy.core.config.HeaderMutation;
import io.meshproxy.core.config.LbPolicy;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The embedded default: a small mesh in one process. Two versions of a {@code reviews} service are served by
 * in-process handlers behind their own inbound listeners (so their traffic crosses a real socket and the
 * proxy's filter chain, as a sidecar's inbound side would); the outbound listener routes to them like an
 * Istio VirtualService would: {@code x-canary: true} goes to v2, everything else is split 90/10.
 */
public final class DemoMesh {
    /** Ports of the demo: admin, outbound, and the two service versions. */
    public record Ports(int admin, int outbound, int reviewsV1, int reviewsV2) {
        /** Istio's conventional ports for admin and outbound, demo services beside them. */
        public static final Ports DEFAULT = new Ports(15000, 15001, 19081, 19082);
        /** Free ports chosen by the system (tests). */
        public static final Ports EPHEMERAL = new Ports(0, 0, 0, 0);
    }

    private DemoMesh() {}

    /** Starts the two demo service versions, then the mesh in front of them. */
    public static MeshProxy start(Ports ports) {
        MeshProxy services = MeshProxy.builder()
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("reviews-v1").port(ports.reviewsV1()).handler("v1").build())
                        .listener(ListenerConfig.builder().name("reviews-v2").port(ports.reviewsV2()).handler("v2").build())
                        .build())
                .handler("v1", reviews("v1", "★★★★☆"))
                .handler("v2", reviews("v2", "★★★★★"))
                .eventLoopThreads(1)
                .build().start();
        int v1 = services.listenerPort("reviews-v1");
        int v2 = services.listenerPort("reviews-v2");

        ClusterConfig reviews = ClusterConfig.builder().name("reviews")
                .endpoint(EndpointConfig.builder().address("127.0.0.1").port(v1).label("version", "v1").build())
                .endpoint(EndpointConfig.builder().address("127.0.0.1").port(v2).label("version", "v2").build())
                .subset("v1", Map.of("version", "v1"))
                .subset("v2", Map.of("version", "v2"))
                .lbPolicy(LbPolicy.LEAST_REQUEST)
                .build();
        RouteConfiguration routes = RouteConfiguration.builder().name("outbound")
                .virtualHost(VirtualHost.builder().name("reviews").domain("reviews").domain("reviews.default.svc.cluster.local")
                        .route(Route.builder().name("canary")
                                .match(RouteMatch.builder().pathPrefix("/").header(HeaderMatcher.exact("x-canary", "true")).build())
                                .action(RouteAction.builder().weightedCluster("reviews", "v2", 100).build())
                                .responseHeaders(HeaderMutation.builder().set("x-route", "canary").build())
                                .build())
                        .route(Route.builder().name("split")
                                .action(RouteAction.builder()
                                        .weightedCluster("reviews", "v1", 90)
                                        .weightedCluster("reviews", "v2", 10).build())
                                .responseHeaders(HeaderMutation.builder().set("x-route", "split").build())
                                .build())
                        .build())
                .virtualHost(VirtualHost.builder().name("fallback").domain("*")
                        .route(Route.builder().name("hint").action(DirectResponseAction.of(404,
                                "meshproxy demo: try  curl -H 'Host: reviews' http://127.0.0.1:<outbound>/reviews/1\n")).build())
                        .build())
                .build();
        MeshProxy mesh = MeshProxy.builder()
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("outbound").port(ports.outbound()).routes(routes).build())
                        .cluster(reviews)
                        .admin(new AdminConfig("127.0.0.1", ports.admin()))
                        .build())
                .build().start();
        SERVICES.put(mesh, services);
        return mesh;
    }

    private static HttpService reviews(String version, String stars) {
        return (ctx, request) -> {
            request.body().discard();
            Headers h = new Headers();
            h.set("content-type", "application/json");
            h.set("x-served-by", "reviews-" + version);
            String json = "{\"service\":\"reviews\",\"version\":\"" + version + "\",\"path\":\"" + request.path()
                    + "\",\"rating\":\"" + stars + "\",\"requestId\":\"" + ctx.requestId() + "\"}\n";
            return CompletableFuture.completedFuture(new HttpResponse(200, h, Body.of(json)));
        };
    }

    /** The demo services behind each started mesh, stopped with it. */
    private static final Map<MeshProxy, MeshProxy> SERVICES = new java.util.concurrent.ConcurrentHashMap<>();

    /** Stops the mesh and the demo services behind it. */
    public static void stop(MeshProxy mesh) {
        mesh.close();
        MeshProxy services = SERVICES.remove(mesh);
        if (services != null) {
            services.close();
        }
    }
}
