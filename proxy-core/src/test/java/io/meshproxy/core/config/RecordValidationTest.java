package io.meshproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Each record rejects invalid values with a message naming the field and the reason. */
class RecordValidationTest {

    private static String error(Executable construction) {
        ConfigException e = assertThrows(ConfigException.class, construction);
        assertEquals(1, e.errors().size(), () -> "errors: " + e.errors());
        return e.errors().get(0);
    }

    private static RouteConfiguration table() {
        return RouteConfiguration.builder().name("rt")
                .virtualHost(VirtualHost.builder().name("vh").domain("*")
                        .route(Route.builder().action(RouteAction.to("backend")).build()).build())
                .build();
    }

    @Test
    void endpointPortAndWeightRanges() {
        assertEquals("port: must be in 1..65535, was 0", error(() -> EndpointConfig.of("10.0.0.1", 0)));
        assertEquals("port: must be in 1..65535, was 65536", error(() -> EndpointConfig.of("10.0.0.1", 65536)));
        assertEquals("weight: must be in 1..1000000, was 0",
                error(() -> new EndpointConfig("10.0.0.1", 80, 0, null)));
        assertEquals("weight: must be in 1..1000000, was 1000001",
                error(() -> new EndpointConfig("10.0.0.1", 80, 1_000_001, null)));
        assertEquals("address: must not be blank", error(() -> EndpointConfig.of(" ", 80)));
        assertEquals("address: is required", error(() -> EndpointConfig.of(null, 80)));
    }

    @Test
    void builderAdderPrefixesChildErrorsWithTheChildPath() {
        ClusterConfig.Builder b = ClusterConfig.builder().name("c").endpoint("10.0.0.1", 80);
        assertEquals("endpoints[1].port: must be in 1..65535, was 0", error(() -> b.endpoint("10.0.0.2", 0)));
        assertEquals("path.value: invalid regex '(': Unclosed group near index 1",
                error(() -> RouteMatch.builder().pathRegex("(")));
        assertEquals("clusters[0].weight: must be at least 0, was -1",
                error(() -> RouteAction.builder().weightedCluster("a", null, -1)));
    }

    @Test
    void everyRegexMustCompile() {
        assertEquals("value: invalid regex '(': Unclosed group near index 1", error(() -> PathMatch.regex("(")));
        assertTrue(error(() -> HeaderMatcher.regex("x-id", "[a-")).startsWith("value: invalid regex '[a-': "));
        assertTrue(error(() -> QueryParameterMatcher.regex("q", "*x")).startsWith("value: invalid regex '*x': "));
        assertTrue(error(() -> new RouteAction.RegexRewrite("a{2", "b")).startsWith("pattern: invalid regex 'a{2': "));
    }

    @Test
    void matcherValueRequiredExceptPresentAndAbsent() {
        assertEquals("value: is required", error(() -> HeaderMatcher.exact("x-user", null)));
        assertEquals("value: is required", error(() -> QueryParameterMatcher.prefix("q", null)));
        assertEquals(HeaderMatcher.Kind.PRESENT, HeaderMatcher.present("x-user").kind());
        assertEquals(HeaderMatcher.Kind.ABSENT, HeaderMatcher.absent("x-user").kind());
        assertEquals(QueryParameterMatcher.Kind.PRESENT, QueryParameterMatcher.present("debug").kind());
        assertEquals("name: must not be blank", error(() -> HeaderMatcher.present("")));
    }

    @Test
    void pathMatchExactAndPrefixStartWithSlash() {
        assertEquals("value: a PREFIX path must start with '/', was 'api'", error(() -> PathMatch.prefix("api")));
    }

    @Test
    void listenerNeedsExactlyOneOfRoutesAndHandler() {
        assertEquals("routes, handler: exactly one must be set, neither is",
                error(() -> ListenerConfig.builder().name("in").build()));
        assertEquals("routes, handler: exactly one must be set, both are",
                error(() -> ListenerConfig.builder().name("in").routes(table()).handler("app").build()));
    }

    @Test
    void listenerRanges() {
        ListenerConfig.Builder b = ListenerConfig.builder().name("in").handler("app");
        assertEquals("port: must be in 0..65535, was -1", error(() -> b.port(-1).build()));
        b.port(0);
        assertEquals("maxRequestHeadersBytes: must be in 1024..1048576, was 1023",
                error(() -> b.maxRequestHeadersBytes(1023).build()));
        assertEquals("maxRequestHeadersBytes: must be in 1024..1048576, was 1048577",
                error(() -> b.maxRequestHeadersBytes(1024 * 1024 + 1).build()));
        b.maxRequestHeadersBytes(1024);
        assertEquals("maxRequestBodyBytes: must be at least 0, was -1", error(() -> b.maxRequestBodyBytes(-1).build()));
        b.maxRequestBodyBytes(0);
        assertEquals("idleTimeout: must not be negative, was -0.500s",
                error(() -> b.idleTimeout(Duration.ofMillis(-500)).build()));
        b.idleTimeout(null);
        assertEquals("http2MaxConcurrentStreams: must be at least 1, was 0",
                error(() -> b.http2MaxConcurrentStreams(0).build()));
        assertEquals("name: must not be blank",
                error(() -> ListenerConfig.builder().name("").handler("app").build()));
    }

    @Test
    void routeActionTargetsAndRewrites() {
        assertEquals("clusters: must name at least one cluster", error(() -> RouteAction.builder().build()));
        assertEquals("clusters: weights must add up to more than 0", error(() -> RouteAction.builder()
                .weightedCluster("a", null, 0).weightedCluster("b", null, 0).build()));
        assertEquals("prefixRewrite, regexRewrite: at most one may be set", error(() -> RouteAction.builder()
                .cluster("a").prefixRewrite("/v2").regexRewrite("^/v1", "/v2").build()));
        assertEquals("timeout: must not be negative, was -1s",
                error(() -> RouteAction.builder().cluster("a").timeout(Duration.ofSeconds(-1)).build()));
        assertEquals("clusters[1]: must not be null",
                error(() -> new RouteAction(java.util.Arrays.asList(WeightedCluster.of("a"), null), null, null,
                        null, null)));
    }

    @Test
    void prefixRewriteRequiresAPrefixOrExactPathMatch() {
        RouteMatch exact = RouteMatch.builder().pathExact("/v1/reviews").build();
        Route onExact = Route.builder().match(exact)
                .action(RouteAction.builder().cluster("a").prefixRewrite("/v2").build()).build();
        assertEquals("/v2", ((RouteAction) onExact.action()).prefixRewrite());
        assertEquals("action.prefixRewrite: requires a PREFIX or EXACT path match, the path match is REGEX",
                error(() -> Route.builder().match(RouteMatch.builder().pathRegex("/v1/.*").build())
                        .action(RedirectAction.builder().prefixRewrite("/v2").build()).build()));
        Route ok = Route.builder().match(RouteMatch.builder().pathPrefix("/v1").build())
                .action(RouteAction.builder().cluster("a").prefixRewrite("/v2").build()).build();
        assertEquals("/v2", ((RouteAction) ok.action()).prefixRewrite());
    }

    @Test
    void redirectAndDirectResponseCodes() {
        assertEquals("responseCode: must be one of 301, 302, 303, 307, 308, was 200",
                error(() -> RedirectAction.builder().responseCode(200).build()));
        assertEquals("port: must be in 1..65535, was 0", error(() -> RedirectAction.builder().port(0).build()));
        assertEquals("status: must be in 200..599, was 199", error(() -> DirectResponseAction.of(199, "x")));
        assertEquals("status: must be in 200..599, was 600", error(() -> DirectResponseAction.of(600, null)));
    }

    @Test
    void virtualHostDomains() {
        VirtualHost.Builder vh = VirtualHost.builder().name("vh")
                .route(Route.builder().action(DirectResponseAction.of(200, "ok")).build());
        assertEquals("domains: must name at least one domain", error(vh::build));
        for (String bad : List.of("foo.*.com", "f*o.com", "**", "*.*", "*a*")) {
            String message = error(() -> VirtualHost.builder().name("vh").domain("ok.com").domain(bad)
                    .route(Route.builder().action(DirectResponseAction.of(200, "ok")).build()).build());
            assertEquals("domains[1]: a wildcard must be the first or last character ('*.suffix', 'prefix.*')"
                    + " or the whole domain ('*'), was '" + bad + "'", message);
        }
        VirtualHost good = vh.domain("*").domain("*.example.com").domain("reviews.*").domain("reviews:9080")
                .domain("*-svc.local").domain("canary-*").build();
        assertEquals(6, good.domains().size());
        assertEquals("domains[1]: duplicate domain 'A.com', also domains[0]",
                error(() -> VirtualHost.builder().name("vh").domain("a.com").domain("A.com")
                        .route(Route.builder().action(DirectResponseAction.of(200, "ok")).build()).build()));
        // No route, as Envoy allows: the domains are claimed and every request gets 404 NR.
        assertEquals(List.of(), VirtualHost.builder().name("vh").domain("*").build().routes());
    }

    @Test
    void routeTableRejectsADomainServedTwice() {
        Route r = Route.builder().action(DirectResponseAction.of(200, "ok")).build();
        assertEquals("virtualHosts[1].domains[0]: domain '*.example.com' is already served by virtualHosts[0] 'a'",
                error(() -> RouteConfiguration.builder().name("rt")
                        .virtualHost(VirtualHost.builder().name("a").domain("*.example.com").route(r).build())
                        .virtualHost(VirtualHost.builder().name("b").domain("*.example.com").route(r).build())
                        .build()));
    }

    @Test
    void clusterSubsetsAndEndpoints() {
        assertEquals("subsets[1].name: duplicate subset name 'v1', also subsets[0]",
                error(() -> ClusterConfig.builder().name("reviews")
                        .subset("v1", Map.of("version", "v1")).subset("v1", Map.of("version", "v2")).build()));
        assertEquals("subsets[0].labels: must not be empty",
                error(() -> ClusterConfig.builder().name("reviews").subset("v1", Map.of())));
        assertEquals("endpoints[1]: duplicate endpoint 10.0.0.1:80, also endpoints[0]",
                error(() -> ClusterConfig.builder().name("reviews").endpoint("10.0.0.1", 80)
                        .endpoint("10.0.0.1", 80).build()));
        assertEquals("connectTimeout: must not be negative, was -0.001s", error(() -> ClusterConfig.builder()
                .name("c").connectTimeout(Duration.ofMillis(-1)).build()));
    }

    @Test
    void defaultsReplaceNulls() {
        ListenerConfig l = new ListenerConfig("in", null, 0, null, "app", 61440, 0, null, null, null, 1024);
        assertEquals("127.0.0.1", l.address());
        assertEquals(Duration.ofSeconds(10), l.requestHeadersTimeout());
        assertEquals(Duration.ofHours(1), l.idleTimeout());
        assertEquals(Duration.ofSeconds(5), l.drainTimeout());

        ListenerConfig built = ListenerConfig.builder().name("in").handler("app").build();
        assertEquals(l, built);
        assertEquals(61440, built.maxRequestHeadersBytes());
        assertEquals(0, built.maxRequestBodyBytes());
        assertEquals(1024, built.http2MaxConcurrentStreams());

        ClusterConfig c = new ClusterConfig("c", null, null, null, null, null, null);
        assertEquals(List.of(), c.endpoints());
        assertEquals(List.of(), c.subsets());
        assertEquals(LbPolicy.ROUND_ROBIN, c.lbPolicy());
        assertEquals(UpstreamProtocol.HTTP1, c.protocol());
        assertEquals(Duration.ofSeconds(10), c.connectTimeout());
        assertEquals(Duration.ofHours(1), c.idleTimeout());

        RouteMatch m = new RouteMatch(null, null, null);
        assertEquals(PathMatch.prefix("/"), m.path());
        assertEquals(List.of(), m.headers());
        assertEquals(List.of(), m.queryParameters());

        Route r = new Route(null, m, DirectResponseAction.of(204, null), null, null);
        assertEquals(HeaderMutation.NONE, r.requestHeaders());
        assertEquals(HeaderMutation.NONE, r.responseHeaders());

        assertEquals(Duration.ZERO, new RouteAction(List.of(WeightedCluster.of("a")), null, null, null, null).timeout());
        assertEquals(301, RedirectAction.builder().build().responseCode());
        assertEquals("127.0.0.1", new AdminConfig(null, 9901).address());
        assertEquals(1, EndpointConfig.of("h", 1).weight());
        assertEquals(Map.of(), new EndpointConfig("h", 1, 1, null).labels());
    }

    @Test
    void collectionsAreCopiedImmutably() {
        List<String> domains = new ArrayList<>(List.of("a.com"));
        Map<String, String> labels = new HashMap<>(Map.of("version", "v1"));
        VirtualHost vh = new VirtualHost("vh", domains,
                List.of(Route.builder().action(DirectResponseAction.of(200, null)).build()));
        EndpointConfig e = new EndpointConfig("10.0.0.1", 80, 1, labels);
        domains.add("b.com");
        labels.put("zone", "a");
        assertEquals(List.of("a.com"), vh.domains());
        assertEquals(Map.of("version", "v1"), e.labels());
        assertThrows(UnsupportedOperationException.class, () -> vh.domains().add("c.com"));
        assertThrows(UnsupportedOperationException.class, () -> e.labels().put("k", "v"));
    }
}
