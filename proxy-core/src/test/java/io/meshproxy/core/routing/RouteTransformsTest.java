package io.meshproxy.core.routing;

import static io.meshproxy.core.routing.RouteFixtures.exact;
import static io.meshproxy.core.routing.RouteFixtures.matchPath;
import static io.meshproxy.core.routing.RouteFixtures.prefix;
import static io.meshproxy.core.routing.RouteFixtures.route;
import static io.meshproxy.core.routing.RouteFixtures.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.meshproxy.core.config.DirectResponseAction;
import io.meshproxy.core.config.HeaderMutation;
import io.meshproxy.core.config.HeaderMutation.Header;
import io.meshproxy.core.config.PathMatch;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.WeightedCluster;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTransformsTest {

    private static final List<WeightedCluster> ONE = List.of(new WeightedCluster("c", null, 1));

    private static CompiledRoute compile(PathMatch path, RouteAction action) {
        return table(route("r", matchPath(path), action)).match(HttpRequest.get("any", path.value()));
    }

    private static HttpRequest transformed(CompiledRoute route, String authority, String path) {
        HttpRequest request = HttpRequest.get(authority, path);
        route.applyRequestTransforms(request);
        return request;
    }

    @Test
    void prefixRewriteReplacesTheMatchedPrefixAndKeepsTheQuery() {
        CompiledRoute r = compile(prefix("/api/v1/"), new RouteAction(ONE, "/", null, null, Duration.ZERO));
        assertEquals("/users/7?expand=true", transformed(r, "any", "/api/v1/users/7?expand=true").path());
        assertEquals("/", transformed(r, "any", "/api/v1/").path());
    }

    @Test
    void prefixRewriteWithIgnoreCaseReplacesTheMatchedPrefixWhateverItsCase() {
        CompiledRoute r = compile(new PathMatch(PathMatch.Kind.PREFIX, "/Old", true),
                new RouteAction(ONE, "/new", null, null, Duration.ZERO));
        assertEquals("/new/page?q=1", transformed(r, "any", "/OLD/page?q=1").path());
    }

    @Test
    void prefixRewriteOnAnExactRouteReplacesThePath() {
        CompiledRoute r = compile(exact("/login"), new RouteAction(ONE, "/auth/login", null, null, Duration.ZERO));
        assertEquals("/auth/login?next=%2F", transformed(r, "any", "/login?next=%2F").path());
    }

    @Test
    void regexRewriteReplacesEveryMatchInThePathAndKeepsTheQuery() {
        CompiledRoute r = compile(prefix("/"), new RouteAction(ONE, null,
                new RouteAction.RegexRewrite("/v[0-9]+/", "/"), null, Duration.ZERO));
        assertEquals("/a/b/c?x=/v9/", transformed(r, "any", "/v1/a/v2/b/v3/c?x=/v9/").path());
    }

    @Test
    void regexRewriteSubstitutesGroupsInEnvoyAndJavaSyntax() {
        CompiledRoute envoy = compile(prefix("/"), new RouteAction(ONE, null,
                new RouteAction.RegexRewrite("^/service/([^/]+)(/.*)$", "\\2/instance/\\1"), null, Duration.ZERO));
        assertEquals("/v1/api/instance/foo?a=1", transformed(envoy, "any", "/service/foo/v1/api?a=1").path());
        CompiledRoute java = compile(prefix("/"), new RouteAction(ONE, null,
                new RouteAction.RegexRewrite("^/service/([^/]+)(/.*)$", "$2/instance/$1"), null, Duration.ZERO));
        assertEquals("/v1/api/instance/foo", transformed(java, "any", "/service/foo/v1/api").path());
    }

    @Test
    void regexRewriteKeepsLiteralDollarAndEscapedBackslash() {
        CompiledRoute r = compile(prefix("/"), new RouteAction(ONE, null,
                new RouteAction.RegexRewrite("^/price$", "/cost$usd\\\\x"), null, Duration.ZERO));
        assertEquals("/cost$usd\\x", transformed(r, "any", "/price").path());
    }

    @Test
    void hostRewriteReplacesTheAuthority() {
        CompiledRoute r = compile(prefix("/"), new RouteAction(ONE, null, null, "backend.internal:8080", Duration.ZERO));
        assertEquals("backend.internal:8080", transformed(r, "public.example.com", "/").authority());
    }

    @Test
    void noRewriteLeavesPathAndAuthorityAlone() {
        CompiledRoute r = compile(prefix("/"), new RouteAction(ONE, null, null, null, Duration.ZERO));
        HttpRequest request = transformed(r, "a.example.com:81", "/x?y=1");
        assertEquals("/x?y=1", request.path());
        assertEquals("a.example.com:81", request.authority());
    }

    @Test
    void requestHeaderMutationRemovesThenSetsThenAdds() {
        HeaderMutation mutation = new HeaderMutation(
                List.of(new Header("x-set", "new"), new Header("x-both", "set")),
                List.of(new Header("x-both", "added"), new Header("x-add", "two")),
                List.of("x-set", "x-both", "x-remove"));
        Route route = new Route("r", matchPath(prefix("/")), new RouteAction(ONE, null, null, null, Duration.ZERO),
                mutation, HeaderMutation.NONE);
        CompiledRoute r = table(route).match(HttpRequest.get("any", "/"));
        HttpRequest request = new HttpRequest("GET", "http", "any", "/",
                Headers.of("x-set", "old1", "x-set", "old2", "x-both", "old", "x-remove", "gone", "x-add", "one",
                        "x-keep", "kept"), null);
        r.applyRequestTransforms(request);
        Headers h = request.headers();
        assertEquals(List.of("new"), h.getAll("x-set"), "set replaces every value");
        assertEquals(List.of("set", "added"), h.getAll("x-both"),
                "remove runs first, so the set value survives, and add appends after set");
        assertFalse(h.contains("x-remove"));
        assertEquals(List.of("one", "two"), h.getAll("x-add"), "add keeps existing values");
        assertEquals("kept", h.get("x-keep"));
    }

    @Test
    void responseHeaderMutationAppliesToTheResponseOnly() {
        HeaderMutation response = new HeaderMutation(List.of(new Header("cache-control", "no-store")),
                List.of(new Header("x-served-by", "mesh")), List.of("server"));
        Route route = new Route("r", matchPath(prefix("/")), new DirectResponseAction(200, "ok"),
                HeaderMutation.NONE, response);
        CompiledRoute r = table(route).match(HttpRequest.get("any", "/"));
        HttpRequest request = new HttpRequest("GET", "http", "any", "/", Headers.of("server", "client"), null);
        r.applyRequestTransforms(request);
        assertEquals("client", request.headers().get("server"), "response mutations do not touch the request");

        HttpResponse resp = new HttpResponse(200,
                Headers.of("server", "upstream", "cache-control", "max-age=60", "x-served-by", "app"), null);
        r.applyResponseTransforms(resp);
        assertNull(resp.headers().get("server"));
        assertEquals(List.of("no-store"), resp.headers().getAll("cache-control"));
        assertEquals(List.of("app", "mesh"), resp.headers().getAll("x-served-by"));
    }

    @Test
    void rewritesApplyBeforeHeaderMutationsInOneCall() {
        HeaderMutation mutation = new HeaderMutation(List.of(new Header("x-route", "r")), List.of(), List.of());
        Route route = new Route("r", matchPath(prefix("/old")),
                new RouteAction(ONE, "/new", null, "upstream", Duration.ZERO), mutation, HeaderMutation.NONE);
        CompiledRoute r = table(route).match(HttpRequest.get("any", "/old/x"));
        HttpRequest request = transformed(r, "downstream", "/old/x?k=v");
        assertEquals("/new/x?k=v", request.path());
        assertEquals("upstream", request.authority());
        assertEquals("r", request.headers().get("x-route"));
    }

    @Test
    void timeoutComesFromTheRouteActionElseZero() {
        CompiledRoute timed = compile(prefix("/"), new RouteAction(ONE, null, null, null, Duration.ofSeconds(3)));
        assertEquals(Duration.ofSeconds(3), timed.timeout());
        CompiledRoute untimed = compile(prefix("/"), new RouteAction(ONE, null, null, null, null));
        assertEquals(Duration.ZERO, untimed.timeout());
        CompiledRoute direct = table(route("d", matchPath(prefix("/")), new DirectResponseAction(404, null)))
                .match(HttpRequest.get("any", "/"));
        assertEquals(Duration.ZERO, direct.timeout());
    }

    @Test
    void compiledRouteExposesItsConfigAndAction() {
        RouteAction action = new RouteAction(ONE, null, null, null, Duration.ZERO);
        Route config = route("named", matchPath(prefix("/")), action);
        CompiledRoute r = table(config).match(HttpRequest.get("any", "/"));
        assertEquals("named", r.name());
        assertEquals(config, r.config());
        assertEquals(action, r.action());
        assertEquals("all", r.virtualHostName());
    }
}
