package io.meshproxy.core.routing;

import static io.meshproxy.core.routing.RouteFixtures.table;
import static io.meshproxy.core.routing.RouteFixtures.virtualHost;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VirtualHostSelectionTest {

    private static String hostFor(RouteTable table, String authority) {
        CompiledRoute route = table.match(HttpRequest.get(authority, "/"));
        return route == null ? null : route.virtualHostName();
    }

    @Test
    void exactDomainBeatsEveryWildcard() {
        RouteTable t = table(
                virtualHost("any", "*"),
                virtualHost("prefix", "api.*"),
                virtualHost("suffix", "*.example.com"),
                virtualHost("exact", "api.example.com"));
        assertEquals("exact", hostFor(t, "api.example.com"));
    }

    @Test
    void suffixWildcardBeatsPrefixWildcardAndCatchAll() {
        RouteTable t = table(
                virtualHost("any", "*"),
                virtualHost("prefix", "api.*"),
                virtualHost("suffix", "*.example.com"));
        assertEquals("suffix", hostFor(t, "api.example.com"));
    }

    @Test
    void longestSuffixWildcardWins() {
        RouteTable t = table(
                virtualHost("short", "*.com"),
                virtualHost("long", "*.example.com"),
                virtualHost("longer", "*.eu.example.com"));
        assertEquals("longer", hostFor(t, "api.eu.example.com"));
        assertEquals("long", hostFor(t, "api.us.example.com"));
        assertEquals("short", hostFor(t, "other.com"));
    }

    @Test
    void suffixWildcardMatchesSeveralLabelsButAtLeastOneCharacter() {
        RouteTable t = table(virtualHost("suffix", "*.example.com"), virtualHost("suffix-dash", "*-svc.local"));
        assertEquals("suffix", hostFor(t, "foo.bar.example.com"));
        assertEquals("suffix-dash", hostFor(t, "reviews-svc.local"));
        assertNull(hostFor(t, ".example.com"), "the wildcard must stand for at least one character");
        assertNull(hostFor(t, "example.com"));
    }

    @Test
    void longestPrefixWildcardWinsOverCatchAll() {
        RouteTable t = table(
                virtualHost("any", "*"),
                virtualHost("short", "reviews.*"),
                virtualHost("long", "reviews.default.*"));
        assertEquals("long", hostFor(t, "reviews.default.svc"));
        assertEquals("short", hostFor(t, "reviews.other"));
        assertEquals("any", hostFor(t, "ratings.default.svc"));
        assertEquals("any", hostFor(t, "reviews."), "the wildcard must stand for at least one character");
    }

    @Test
    void catchAllTakesWhatNothingElseMatches() {
        RouteTable t = table(virtualHost("exact", "a.example.com"), virtualHost("any", "*"));
        assertEquals("any", hostFor(t, "b.example.com"));
    }

    @Test
    void noVirtualHostMeansNoRoute() {
        RouteTable t = table(virtualHost("exact", "a.example.com"));
        assertNull(t.match(HttpRequest.get("b.example.com", "/")));
    }

    @Test
    void domainsAreCaseInsensitive() {
        RouteTable t = table(virtualHost("exact", "Reviews.Default.SVC"), virtualHost("suffix", "*.Example.COM"),
                virtualHost("prefix", "RATINGS.*"));
        assertEquals("exact", hostFor(t, "reviews.default.svc"));
        assertEquals("exact", hostFor(t, "REVIEWS.DEFAULT.SVC"));
        assertEquals("suffix", hostFor(t, "API.example.com"));
        assertEquals("prefix", hostFor(t, "ratings.default"));
    }

    @Test
    void portIsIgnoredWhenNoDomainNamesIt() {
        RouteTable t = table(virtualHost("exact", "reviews"), virtualHost("suffix", "*.example.com"),
                virtualHost("any", "*"));
        assertEquals("exact", hostFor(t, "reviews:9080"));
        assertEquals("suffix", hostFor(t, "api.example.com:8443"));
    }

    @Test
    void domainWithPortWinsForThatPort() {
        RouteTable t = table(virtualHost("plain", "reviews"), virtualHost("with-port", "reviews:9080"));
        assertEquals("with-port", hostFor(t, "reviews:9080"));
        assertEquals("plain", hostFor(t, "reviews:9090"));
        assertEquals("plain", hostFor(t, "reviews"));
    }

    @Test
    void domainWithPortDoesNotMatchAnotherPortOrNoPort() {
        RouteTable t = table(virtualHost("with-port", "reviews:9080"));
        assertNull(hostFor(t, "reviews:9090"));
        assertNull(hostFor(t, "reviews"));
    }

    @Test
    void bracketedIpv6AuthorityLosesOnlyItsPort() {
        RouteTable t = table(virtualHost("v6", "[::1]"));
        assertEquals("v6", hostFor(t, "[::1]:8080"));
        assertEquals("v6", hostFor(t, "[::1]"));
    }

    @Test
    void nullAuthorityMatchesOnlyCatchAll() {
        RouteTable withCatchAll = table(virtualHost("exact", "a"), virtualHost("any", "*"));
        assertEquals("any", hostFor(withCatchAll, null));
        RouteTable without = table(virtualHost("exact", "a"), virtualHost("prefix", "a*"));
        assertNull(hostFor(without, null));
    }

    @Test
    void thousandsOfDomainsSelectTheRightHost() {
        List<VirtualHost> hosts = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            hosts.add(virtualHost("exact-" + i, "svc-" + i + ".ns.svc.cluster.local", "svc-" + i));
            hosts.add(virtualHost("suffix-" + i, "*.zone-" + i + ".example.com"));
        }
        hosts.add(virtualHost("any", "*"));
        RouteTable t = table(hosts.toArray(new VirtualHost[0]));
        assertEquals("exact-4321", hostFor(t, "svc-4321.ns.svc.cluster.local"));
        assertEquals("exact-17", hostFor(t, "svc-17:8080"));
        assertEquals("suffix-3999", hostFor(t, "api.zone-3999.example.com"));
        assertEquals("any", hostFor(t, "svc-5000"));
    }
}
