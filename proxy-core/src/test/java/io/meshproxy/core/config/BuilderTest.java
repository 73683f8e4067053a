package io.meshproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Builders and static factories produce the same records as the canonical constructors. */
class BuilderTest {

    @Test
    void routeTreeFromBuildersEqualsCanonicalConstruction() {
        Route built = Route.builder()
                .name("reviews-v2")
                .match(RouteMatch.builder()
                        .pathPrefix("/reviews")
                        .header(HeaderMatcher.exact("end-user", "jason"))
                        .header(HeaderMatcher.absent("x-canary"))
                        .queryParameter(QueryParameterMatcher.present("debug"))
                        .build())
                .action(RouteAction.builder()
                        .weightedCluster("reviews", "v1", 80)
                        .weightedCluster("reviews", "v2", 20)
                        .prefixRewrite("/api/reviews")
                        .hostRewrite("reviews.internal")
                        .timeout(Duration.ofMillis(1500))
                        .build())
                .requestHeaders(HeaderMutation.builder().set("x-route", "v2").add("via", "mesh").remove("x-debug").build())
                .build();

        Route canonical = new Route("reviews-v2",
                new RouteMatch(new PathMatch(PathMatch.Kind.PREFIX, "/reviews", false),
                        List.of(new HeaderMatcher("end-user", HeaderMatcher.Kind.EXACT, "jason", false),
                                new HeaderMatcher("x-canary", HeaderMatcher.Kind.ABSENT, null, false)),
                        List.of(new QueryParameterMatcher("debug", QueryParameterMatcher.Kind.PRESENT, null))),
                new RouteAction(List.of(new WeightedCluster("reviews", "v1", 80), new WeightedCluster("reviews", "v2", 20)),
                        "/api/reviews", null, "reviews.internal", Duration.ofMillis(1500)),
                new HeaderMutation(List.of(new HeaderMutation.Header("x-route", "v2")),
                        List.of(new HeaderMutation.Header("via", "mesh")), List.of("x-debug")),
                HeaderMutation.NONE);
        assertEquals(canonical, built);
    }

    @Test
    void clusterAndListenerBuildersEqualCanonicalConstruction() {
        ClusterConfig built = ClusterConfig.builder().name("reviews")
                .endpoint("10.0.0.1", 9080)
                .endpoint(EndpointConfig.builder().address("10.0.0.2").port(9080).weight(3).label("version", "v2").build())
                .subset("v2", Map.of("version", "v2"))
                .lbPolicy(LbPolicy.LEAST_REQUEST)
                .protocol(UpstreamProtocol.HTTP2)
                .connectTimeout(Duration.ofMillis(250))
                .build();
        ClusterConfig canonical = new ClusterConfig("reviews",
                List.of(new EndpointConfig("10.0.0.1", 9080, 1, Map.of()),
                        new EndpointConfig("10.0.0.2", 9080, 3, Map.of("version", "v2"))),
                List.of(new SubsetConfig("v2", Map.of("version", "v2"))),
                LbPolicy.LEAST_REQUEST, UpstreamProtocol.HTTP2, Duration.ofMillis(250), Duration.ofHours(1));
        assertEquals(canonical, built);

        RouteConfiguration routes = RouteConfiguration.builder().name("rt")
                .virtualHost(VirtualHost.builder().name("vh").domain("reviews").domain("reviews:9080")
                        .route(Route.builder().action(RouteAction.builder().cluster("reviews").build()).build())
                        .build())
                .build();
        assertEquals(new RouteConfiguration("rt", List.of(new VirtualHost("vh", List.of("reviews", "reviews:9080"),
                List.of(new Route(null, RouteMatch.ANY, RouteAction.to("reviews"), null, null))))), routes);

        ListenerConfig listener = ListenerConfig.builder().name("in").address("0.0.0.0").port(15006).routes(routes)
                .maxRequestHeadersBytes(8192).maxRequestBodyBytes(1 << 20)
                .requestHeadersTimeout(Duration.ZERO).idleTimeout(Duration.ofMinutes(5))
                .drainTimeout(Duration.ofSeconds(1)).http2MaxConcurrentStreams(100).build();
        assertEquals(new ListenerConfig("in", "0.0.0.0", 15006, routes, null, 8192, 1 << 20, Duration.ZERO,
                Duration.ofMinutes(5), Duration.ofSeconds(1), 100), listener);
    }

    @Test
    void factoriesEqualCanonicalConstruction() {
        assertEquals(new PathMatch(PathMatch.Kind.EXACT, "/a", false), PathMatch.exact("/a"));
        assertEquals(new PathMatch(PathMatch.Kind.REGEX, "/a/[0-9]+", false), PathMatch.regex("/a/[0-9]+"));
        assertEquals(new PathMatch(PathMatch.Kind.PREFIX, "/a", true),
                PathMatch.builder().kind(PathMatch.Kind.PREFIX).value("/a").ignoreCase(true).build());
        assertEquals(new HeaderMatcher("h", HeaderMatcher.Kind.SUFFIX, ".v1", true),
                HeaderMatcher.suffix("h", ".v1").inverted());
        assertEquals(new HeaderMatcher("h", HeaderMatcher.Kind.PREFIX, "a", false), HeaderMatcher.prefix("h", "a"));
        assertEquals(new QueryParameterMatcher("q", QueryParameterMatcher.Kind.EXACT, "1"),
                QueryParameterMatcher.exact("q", "1"));
        assertEquals(new EndpointConfig("h", 80, 1, Map.of()), EndpointConfig.of("h", 80));
        assertEquals(new WeightedCluster("c", null, 1), WeightedCluster.of("c"));
        assertEquals(new WeightedCluster("c", "v1", 5),
                WeightedCluster.builder().cluster("c").subset("v1").weight(5).build());
        assertEquals(new DirectResponseAction(404, "nope"), DirectResponseAction.of(404, "nope"));
        assertEquals(new RedirectAction("https", null, 8443, null, null, 308, true),
                RedirectAction.builder().scheme("https").port(8443).responseCode(308).stripQuery(true).build());
        assertEquals(new AdminConfig("127.0.0.1", 0), AdminConfig.builder().build());
        assertEquals(new RouteAction.RegexRewrite("^/v1/(.*)$", "/v2/$1"),
                RouteAction.builder().cluster("c").regexRewrite("^/v1/(.*)$", "/v2/$1").build().regexRewrite());
    }
}
