package io.meshproxy.core.routing;

import static io.meshproxy.core.routing.RouteFixtures.exact;
import static io.meshproxy.core.routing.RouteFixtures.forward;
import static io.meshproxy.core.routing.RouteFixtures.matchHeaders;
import static io.meshproxy.core.routing.RouteFixtures.matchQuery;
import static io.meshproxy.core.routing.RouteFixtures.prefix;
import static io.meshproxy.core.routing.RouteFixtures.regex;
import static io.meshproxy.core.routing.RouteFixtures.route;
import static io.meshproxy.core.routing.RouteFixtures.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.meshproxy.core.config.HeaderMatcher;
import io.meshproxy.core.config.PathMatch;
import io.meshproxy.core.config.QueryParameterMatcher;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteMatchingTest {

    private static String routeFor(RouteTable table, String path) {
        return routeFor(table, HttpRequest.get("any", path));
    }

    private static String routeFor(RouteTable table, HttpRequest request) {
        CompiledRoute route = table.match(request);
        return route == null ? null : route.name();
    }

    private static HttpRequest withHeaders(String... namesAndValues) {
        return new HttpRequest("GET", "http", "any", "/", Headers.of(namesAndValues), Body.empty());
    }

    // ---- path ----

    @Test
    void exactPathMatchesOnlyThatPathAndIgnoresTheQuery() {
        RouteTable t = table(route("exact", exact("/reviews")));
        assertEquals("exact", routeFor(t, "/reviews"));
        assertEquals("exact", routeFor(t, "/reviews?id=1"));
        assertNull(routeFor(t, "/reviews/1"));
        assertNull(routeFor(t, "/review"));
        assertNull(routeFor(t, "/Reviews"));
    }

    @Test
    void prefixPathIsAPlainStringPrefix() {
        RouteTable t = table(route("api", prefix("/api")));
        assertEquals("api", routeFor(t, "/api"));
        assertEquals("api", routeFor(t, "/api/v1"));
        assertEquals("api", routeFor(t, "/apis"), "Envoy's prefix is a string prefix, not a segment prefix");
        assertNull(routeFor(t, "/ap"));
        assertNull(routeFor(t, "/API"));
    }

    @Test
    void prefixIsNotSatisfiedByTheQueryString() {
        RouteTable t = table(route("long", prefix("/a?b")));
        assertNull(routeFor(t, "/a?b=1"));
    }

    @Test
    void regexPathMustMatchTheWholePathWithoutQuery() {
        RouteTable t = table(route("regex", regex("/reviews/[0-9]+")));
        assertEquals("regex", routeFor(t, "/reviews/42"));
        assertEquals("regex", routeFor(t, "/reviews/42?x=y"));
        assertNull(routeFor(t, "/reviews/42/details"), "a partial match is not a match");
        assertNull(routeFor(t, "/v1/reviews/42"));
    }

    @Test
    void regexAnchorsApplyToThePathWithoutQuery() {
        RouteTable t = table(route("anchored", regex("^/a$")));
        assertEquals("anchored", routeFor(t, "/a?q=1"));
    }

    @Test
    void ignoreCaseAppliesToEveryPathKind() {
        RouteTable t = table(
                route("exact", new PathMatch(PathMatch.Kind.EXACT, "/Login", true)),
                route("prefix", new PathMatch(PathMatch.Kind.PREFIX, "/Static/", true)),
                route("regex", new PathMatch(PathMatch.Kind.REGEX, "/users/[a-z]+", true)));
        assertEquals("exact", routeFor(t, "/LOGIN"));
        assertEquals("prefix", routeFor(t, "/static/app.js"));
        assertEquals("regex", routeFor(t, "/USERS/Alice"));
    }

    @Test
    void firstMatchingRouteWinsInConfigurationOrder() {
        RouteTable t = table(
                route("specific", prefix("/api/v2")),
                route("general", prefix("/api")),
                route("shadowed", prefix("/api/v1")));
        assertEquals("specific", routeFor(t, "/api/v2/x"));
        assertEquals("general", routeFor(t, "/api/v1/x"), "a later, more specific route does not beat an earlier one");
    }

    @Test
    void noMatchingRouteInTheSelectedHostMeansNull() {
        RouteTable t = table(route("api", prefix("/api")));
        assertNull(routeFor(t, "/web"));
    }

    // ---- headers ----

    private static RouteTable headerTable(HeaderMatcher matcher) {
        return table(route("hit", matchHeaders(matcher), forward("c")));
    }

    private static HeaderMatcher header(String name, HeaderMatcher.Kind kind, String value) {
        return new HeaderMatcher(name, kind, value, false);
    }

    @Test
    void headerExact() {
        RouteTable t = headerTable(header("end-user", HeaderMatcher.Kind.EXACT, "jason"));
        assertEquals("hit", routeFor(t, withHeaders("end-user", "jason")));
        assertEquals("hit", routeFor(t, withHeaders("End-User", "jason")), "header names are case-insensitive");
        assertNull(routeFor(t, withHeaders("end-user", "Jason")), "values are case-sensitive");
        assertNull(routeFor(t, withHeaders("end-user", "jason2")));
    }

    @Test
    void headerPrefixAndSuffix() {
        RouteTable p = headerTable(header("user-agent", HeaderMatcher.Kind.PREFIX, "curl/"));
        assertEquals("hit", routeFor(p, withHeaders("user-agent", "curl/8.0")));
        assertNull(routeFor(p, withHeaders("user-agent", "Mozilla curl/8.0")));
        RouteTable s = headerTable(header("x-file", HeaderMatcher.Kind.SUFFIX, ".json"));
        assertEquals("hit", routeFor(s, withHeaders("x-file", "a.json")));
        assertNull(routeFor(s, withHeaders("x-file", "a.json.gz")));
    }

    @Test
    void headerRegexMustMatchTheWholeValue() {
        RouteTable t = headerTable(header("x-version", HeaderMatcher.Kind.REGEX, "v[0-9]+"));
        assertEquals("hit", routeFor(t, withHeaders("x-version", "v12")));
        assertNull(routeFor(t, withHeaders("x-version", "v12-beta")));
    }

    @Test
    void headerPresentAndAbsent() {
        RouteTable present = headerTable(header("x-debug", HeaderMatcher.Kind.PRESENT, null));
        assertEquals("hit", routeFor(present, withHeaders("x-debug", "")));
        assertNull(routeFor(present, withHeaders()));
        RouteTable absent = headerTable(header("x-debug", HeaderMatcher.Kind.ABSENT, null));
        assertEquals("hit", routeFor(absent, withHeaders()));
        assertNull(routeFor(absent, withHeaders("x-debug", "1")));
    }

    @Test
    void absentHeaderNeverMatchesValueConditionsButInvertedItDoes() {
        for (HeaderMatcher.Kind kind : List.of(HeaderMatcher.Kind.EXACT, HeaderMatcher.Kind.PREFIX,
                HeaderMatcher.Kind.SUFFIX, HeaderMatcher.Kind.REGEX)) {
            assertNull(routeFor(headerTable(header("x-missing", kind, ".*")), withHeaders()), kind.name());
            RouteTable inverted = headerTable(new HeaderMatcher("x-missing", kind, ".*", true));
            assertEquals("hit", routeFor(inverted, withHeaders()), kind.name());
        }
    }

    @Test
    void invertNegatesEachKind() {
        RouteTable notJason = headerTable(new HeaderMatcher("end-user", HeaderMatcher.Kind.EXACT, "jason", true));
        assertNull(routeFor(notJason, withHeaders("end-user", "jason")));
        assertEquals("hit", routeFor(notJason, withHeaders("end-user", "kim")));
        RouteTable notPresent = headerTable(new HeaderMatcher("x-debug", HeaderMatcher.Kind.PRESENT, null, true));
        assertEquals("hit", routeFor(notPresent, withHeaders()));
        assertNull(routeFor(notPresent, withHeaders("x-debug", "1")));
        RouteTable notAbsent = headerTable(new HeaderMatcher("x-debug", HeaderMatcher.Kind.ABSENT, null, true));
        assertEquals("hit", routeFor(notAbsent, withHeaders("x-debug", "1")));
        assertNull(routeFor(notAbsent, withHeaders()));
    }

    @Test
    void multipleValuesAreJoinedWithCommaBeforeMatching() {
        RouteTable t = headerTable(header("x-tag", HeaderMatcher.Kind.EXACT, "a,b"));
        assertEquals("hit", routeFor(t, withHeaders("x-tag", "a", "x-tag", "b")));
        assertNull(routeFor(t, withHeaders("x-tag", "a")));
        RouteTable suffix = headerTable(header("x-tag", HeaderMatcher.Kind.SUFFIX, ",b"));
        assertEquals("hit", routeFor(suffix, withHeaders("x-tag", "a", "x-tag", "b")));
    }

    @Test
    void pseudoHeadersReadTheRequestLine() {
        RouteTable method = headerTable(header(":method", HeaderMatcher.Kind.EXACT, "POST"));
        assertEquals("hit", routeFor(method, HttpRequest.post("any", "/", Body.empty())));
        assertNull(routeFor(method, HttpRequest.get("any", "/")));

        RouteTable authority = headerTable(header(":authority", HeaderMatcher.Kind.SUFFIX, ":9080"));
        assertEquals("hit", routeFor(authority, HttpRequest.get("reviews:9080", "/")));
        assertNull(routeFor(authority, HttpRequest.get("reviews", "/")));
        RouteTable noAuthority = headerTable(header(":authority", HeaderMatcher.Kind.ABSENT, null));
        assertEquals("hit", routeFor(noAuthority, HttpRequest.get(null, "/")));

        RouteTable scheme = headerTable(header(":scheme", HeaderMatcher.Kind.EXACT, "https"));
        assertEquals("hit", routeFor(scheme, HttpRequest.get("any", "/").scheme("https")));
        assertNull(routeFor(scheme, HttpRequest.get("any", "/")));

        RouteTable path = headerTable(header(":path", HeaderMatcher.Kind.REGEX, "/a\\?x=[0-9]"));
        assertEquals("hit", routeFor(path, HttpRequest.get("any", "/a?x=1")), ":path includes the query");
    }

    @Test
    void allHeaderConditionsMustHold() {
        RouteTable t = table(route("hit", matchHeaders(
                header("a", HeaderMatcher.Kind.EXACT, "1"), header("b", HeaderMatcher.Kind.EXACT, "2")), forward("c")));
        assertEquals("hit", routeFor(t, withHeaders("a", "1", "b", "2")));
        assertNull(routeFor(t, withHeaders("a", "1")));
    }

    // ---- query parameters ----

    private static RouteTable queryTable(QueryParameterMatcher... matchers) {
        return table(route("hit", matchQuery(matchers), forward("c")));
    }

    private static QueryParameterMatcher query(String name, QueryParameterMatcher.Kind kind, String value) {
        return new QueryParameterMatcher(name, kind, value);
    }

    @Test
    void queryExactOnTheFirstValue() {
        RouteTable t = queryTable(query("v", QueryParameterMatcher.Kind.EXACT, "2"));
        assertEquals("hit", routeFor(t, "/?a=1&v=2"));
        assertEquals("hit", routeFor(t, "/?v=2&v=3"));
        assertNull(routeFor(t, "/?v=3&v=2"), "only the first value counts");
        assertNull(routeFor(t, "/?vv=2"));
        assertNull(routeFor(t, "/"));
    }

    @Test
    void queryValuesAndNamesAreUrlDecoded() {
        RouteTable t = queryTable(query("user name", QueryParameterMatcher.Kind.EXACT, "jörg & co"));
        assertEquals("hit", routeFor(t, "/?user+name=j%C3%B6rg%20%26%20co"));
        assertEquals("hit", routeFor(t, "/?user%20name=j%C3%B6rg+%26+co"));
    }

    @Test
    void queryPrefixAndRegex() {
        RouteTable p = queryTable(query("lang", QueryParameterMatcher.Kind.PREFIX, "en"));
        assertEquals("hit", routeFor(p, "/?lang=en-GB"));
        assertNull(routeFor(p, "/?lang=fr"));
        RouteTable r = queryTable(query("id", QueryParameterMatcher.Kind.REGEX, "[0-9]+"));
        assertEquals("hit", routeFor(r, "/?id=123"));
        assertNull(routeFor(r, "/?id=123a"), "the regex must match the whole value");
    }

    @Test
    void queryPresentIncludingNameWithoutValue() {
        RouteTable t = queryTable(query("debug", QueryParameterMatcher.Kind.PRESENT, null));
        assertEquals("hit", routeFor(t, "/?debug"));
        assertEquals("hit", routeFor(t, "/?x=1&debug=&y=2"));
        assertEquals("hit", routeFor(t, "/?a&&debug=0"));
        assertNull(routeFor(t, "/?debugging=1"));
        assertNull(routeFor(t, "/debug"));
    }

    @Test
    void nameWithoutEqualsHasTheEmptyValue() {
        RouteTable t = queryTable(query("flag", QueryParameterMatcher.Kind.EXACT, ""));
        assertEquals("hit", routeFor(t, "/?flag&x=1"));
        assertNull(routeFor(t, "/?flag=on"));
    }

    @Test
    void allConditionKindsCombine() {
        Route r = route("hit", new RouteMatch(prefix("/api"),
                List.of(header("x-env", HeaderMatcher.Kind.EXACT, "canary")),
                List.of(query("v", QueryParameterMatcher.Kind.EXACT, "2"))), forward("c"));
        RouteTable t = table(r);
        HttpRequest ok = new HttpRequest("GET", "http", "any", "/api/x?v=2", Headers.of("x-env", "canary"), null);
        assertEquals("hit", routeFor(t, ok));
        assertNull(routeFor(t, new HttpRequest("GET", "http", "any", "/web?v=2", Headers.of("x-env", "canary"), null)));
        assertNull(routeFor(t, new HttpRequest("GET", "http", "any", "/api/x?v=2", Headers.of("x-env", "prod"), null)));
        assertNull(routeFor(t, new HttpRequest("GET", "http", "any", "/api/x?v=1", Headers.of("x-env", "canary"), null)));
    }

    // ---- scale ----

    @Test
    void tenThousandRoutesStillMatchTheRightOne() {
        Route[] routes = new Route[10_000];
        for (int i = 0; i < routes.length; i++) {
            routes[i] = switch (i % 3) {
                case 0 -> route("exact-" + i, exact("/svc/" + i));
                case 1 -> route("prefix-" + i, prefix("/svc/" + i + "/"));
                default -> route("regex-" + i, regex("/svc/" + i + "/[a-z]+"));
            };
        }
        RouteTable t = table(routes);
        assertEquals("exact-9999", routeFor(t, "/svc/9999"));
        assertEquals("prefix-9997", routeFor(t, "/svc/9997/anything"));
        assertEquals("regex-9998", routeFor(t, "/svc/9998/abc"));
        assertEquals("exact-0", routeFor(t, "/svc/0?x=1"));
        assertNull(routeFor(t, "/svc/10000"));
    }
}
