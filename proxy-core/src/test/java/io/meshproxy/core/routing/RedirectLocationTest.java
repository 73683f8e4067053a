package io.meshproxy.core.routing;

import static io.meshproxy.core.routing.RouteFixtures.forward;
import static io.meshproxy.core.routing.RouteFixtures.matchPath;
import static io.meshproxy.core.routing.RouteFixtures.prefix;
import static io.meshproxy.core.routing.RouteFixtures.redirect;
import static io.meshproxy.core.routing.RouteFixtures.route;
import static io.meshproxy.core.routing.RouteFixtures.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshproxy.core.config.PathMatch;
import io.meshproxy.core.config.RedirectAction;
import io.meshproxy.core.http.HttpRequest;
import org.junit.jupiter.api.Test;

class RedirectLocationTest {

    private static String location(PathMatch path, RedirectAction action, HttpRequest request) {
        CompiledRoute r = table(route("redirect", matchPath(path), action)).match(request);
        return r.redirectLocation(request);
    }

    private static String location(RedirectAction action, String scheme, String authority, String path) {
        return location(prefix("/"), action, HttpRequest.get(authority, path).scheme(scheme));
    }

    @Test
    void httpsRedirectKeepsHostPathAndQuery() {
        RedirectAction toHttps = redirect("https", null, null, null, null, false);
        assertEquals("https://shop.example.com/cart?id=3", location(toHttps, "http", "shop.example.com", "/cart?id=3"));
    }

    @Test
    void requestPortIsKeptWhileTheHostIsNotReplaced() {
        RedirectAction samePlace = redirect(null, null, null, "/moved", null, false);
        assertEquals("http://shop:8080/moved", location(samePlace, "http", "shop:8080", "/old"));
    }

    @Test
    void plainPortOfTheOtherSchemeIsDroppedOnSchemeChange() {
        RedirectAction toHttps = redirect("https", null, null, null, null, false);
        assertEquals("https://shop/x", location(toHttps, "http", "shop:80", "/x"));
        RedirectAction toHttp = redirect("http", null, null, null, null, false);
        assertEquals("http://shop/x", location(toHttp, "https", "shop:443", "/x"));
    }

    @Test
    void replacedHostHasNoPortUnlessOneIsGiven() {
        RedirectAction hostOnly = redirect(null, "new.example.com", null, null, null, false);
        assertEquals("http://new.example.com/a?b=c", location(hostOnly, "http", "old.example.com:8080", "/a?b=c"));
        RedirectAction hostAndPort = redirect("https", "new.example.com", 8443, null, null, false);
        assertEquals("https://new.example.com:8443/a", location(hostAndPort, "http", "old.example.com:8080", "/a"));
    }

    @Test
    void givenPortReplacesTheRequestPort() {
        RedirectAction portOnly = redirect(null, null, 9443, null, null, false);
        assertEquals("http://shop:9443/a", location(portOnly, "http", "shop:8080", "/a"));
    }

    @Test
    void pathRedirectReplacesThePathAndKeepsOrStripsTheQuery() {
        assertEquals("http://shop/new?x=1", location(redirect(null, null, null, "/new", null, false), "http", "shop", "/old?x=1"));
        assertEquals("http://shop/new", location(redirect(null, null, null, "/new", null, true), "http", "shop", "/old?x=1"));
    }

    @Test
    void pathRedirectWithItsOwnQueryReplacesTheQuery() {
        RedirectAction action = redirect(null, null, null, "/search?q=mesh", null, false);
        assertEquals("http://shop/search?q=mesh", location(action, "http", "shop", "/find?term=x"));
    }

    @Test
    void prefixRewriteReplacesTheMatchedPrefix() {
        RedirectAction action = redirect(null, null, null, null, "/v2/", false);
        HttpRequest request = HttpRequest.get("shop", "/v1/items/4?fields=name");
        assertEquals("http://shop/v2/items/4?fields=name", location(prefix("/v1/"), action, request));
        RedirectAction stripping = redirect(null, null, null, null, "/v2/", true);
        assertEquals("http://shop/v2/items/4", location(prefix("/v1/"), stripping, request));
    }

    @Test
    void withoutPathChangeTheRequestPathIsKeptOrItsQueryStripped() {
        RedirectAction strip = redirect("https", null, null, null, null, true);
        assertEquals("https://shop/a/b", location(strip, "http", "shop", "/a/b?secret=1"));
    }

    @Test
    void redirectStatusIsTheResponseCode() {
        RedirectAction permanent = new RedirectAction("https", null, null, null, null, 308, false);
        CompiledRoute r = table(route("r", matchPath(prefix("/")), permanent)).match(HttpRequest.get("a", "/"));
        assertEquals(308, r.redirectStatus());
    }

    @Test
    void redirectQueriesOnAForwardingRouteFailLoudly() {
        CompiledRoute r = table(route("fwd", matchPath(prefix("/")), forward("c"))).match(HttpRequest.get("a", "/"));
        assertThrows(IllegalStateException.class, () -> r.redirectLocation(HttpRequest.get("a", "/")));
        assertThrows(IllegalStateException.class, r::redirectStatus);
    }
}
