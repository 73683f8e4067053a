package io.meshproxy.tls.authz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.http.Headers;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Istio's AuthorizationPolicy semantics, request by request, with explicit principals and addresses. */
class AuthorizationEngineTest {
    static final String FRONTEND = "cluster.local/ns/production/sa/frontend-service";
    static final String OTHER = "cluster.local/ns/staging/sa/tester";

    static CheckRequest req(String principal, String ip, int port, String method, String host, String path,
            Headers headers, RequestAuth auth) throws Exception {
        return new CheckRequest(principal, ip == null ? null : InetAddress.getByName(ip), port, method, host, path,
                headers, auth);
    }

    static CheckRequest req(String principal, String method, String path) throws Exception {
        return req(principal, "10.0.0.1", 8080, method, "users", path, null, null);
    }

    static boolean allowed(AuthorizationEngine e, CheckRequest r) {
        return e.check(r).allowed();
    }

    /** The reference document's pair: deny-all ({@code spec: {}}) plus an ALLOW for the frontend. */
    static final AuthorizationEngine DOCUMENTED = AuthorizationEngine.of(
            AuthorizationPolicy.denyAll("deny-all", "production"),
            AuthorizationPolicy.allow("allow-frontend-to-user-service", "production",
                    Rule.from(Source.builder().principals(FRONTEND).build())
                            .withTo(Operation.builder().methods("GET", "POST").paths("/api/users/*").build())));

    @Test
    void noPoliciesAllowEverything() throws Exception {
        assertTrue(allowed(AuthorizationEngine.of(), req(null, "DELETE", "/x")));
    }

    @Test
    void theEmptySpecDeniesEverything() throws Exception {
        AuthorizationPolicy p = AuthorizationPolicy.denyAll("deny-all", "production");
        assertTrue(p.isDenyAll());
        AuthorizationEngine e = AuthorizationEngine.of(p);
        assertFalse(allowed(e, req(FRONTEND, "GET", "/api/users/1")));
        assertFalse(allowed(e, req(null, "GET", "/")));
        assertEquals("rbac_access_denied_matched_policy[none]", e.check(req(null, "GET", "/")).details());
    }

    @Test
    void theDocumentedAllowLetsOnlyTheFrontendGetAndPostUsers() throws Exception {
        assertTrue(allowed(DOCUMENTED, req(FRONTEND, "GET", "/api/users/42")));
        assertTrue(allowed(DOCUMENTED, req(FRONTEND, "POST", "/api/users/42?x=1")), "the query string is not the path");
        assertEquals("ns[production]-policy[allow-frontend-to-user-service]-rule[0]",
                DOCUMENTED.check(req(FRONTEND, "GET", "/api/users/42")).matchedPolicy());
        assertFalse(allowed(DOCUMENTED, req(FRONTEND, "DELETE", "/api/users/42")), "method");
        assertFalse(allowed(DOCUMENTED, req(FRONTEND, "GET", "/api/orders/1")), "path");
        assertFalse(allowed(DOCUMENTED, req(FRONTEND, "GET", "/api/users/../orders/1")), "dot segments resolved first");
        assertFalse(allowed(DOCUMENTED, req(FRONTEND, "GET", "/api/users")), "the prefix includes the slash");
        assertFalse(allowed(DOCUMENTED, req(OTHER, "GET", "/api/users/42")), "principal");
        assertFalse(allowed(DOCUMENTED, req(null, "GET", "/api/users/42")), "plaintext has no principal");
    }

    @Test
    void aDenyWithTheEmptyRuleDeniesEvenWhatAnAllowMatches() throws Exception {
        // The second reference document's "deny-all" (action DENY, rules [{}]): DENY is evaluated first, so the
        // frontend is denied too; the empty spec {} is the deny-all that lets ALLOW policies open holes.
        AuthorizationEngine e = AuthorizationEngine.of(
                AuthorizationPolicy.allow("allow-frontend", "production", Rule.from(Source.builder().principals(FRONTEND).build())),
                AuthorizationPolicy.deny("deny-all", "production", Rule.ANY));
        AuthorizationEngine.Decision d = e.check(req(FRONTEND, "GET", "/api/users/1"));
        assertFalse(d.allowed());
        assertEquals("rbac_access_denied_matched_policy[ns[production]-policy[deny-all]-rule[0]]", d.details());
        assertTrue(allowed(AuthorizationEngine.of(AuthorizationPolicy.deny("noop", "production")),
                req(null, "GET", "/")), "a DENY without rules matches nothing");
    }

    @Test
    void denyBeforeAllow() throws Exception {
        AuthorizationEngine e = AuthorizationEngine.of(
                AuthorizationPolicy.allow("all-get", "ns", Rule.to(Operation.builder().methods("GET").build())),
                AuthorizationPolicy.deny("no-admin", "ns", Rule.to(Operation.builder().paths("/admin*").build())));
        assertTrue(allowed(e, req(null, "GET", "/a")));
        assertFalse(allowed(e, req(null, "GET", "/admin/x")));
        assertFalse(allowed(e, req(null, "POST", "/a")), "no ALLOW matches");
    }

    @Test
    void theOtherDocumentsRulesAreOredSoAnyoneMayGetUsers() throws Exception {
        // rules: [{from: [gateway, orders]}, {to: [GET|POST /users/* /profile/*]}]: two rules, either matches.
        AuthorizationEngine e = AuthorizationEngine.of(AuthorizationPolicy.allow("user-service-access", "production",
                Rule.from(Source.builder().principals("cluster.local/ns/production/sa/api-gateway").build(),
                        Source.builder().principals("cluster.local/ns/production/sa/order-service").build()),
                Rule.to(Operation.builder().methods("GET", "POST").paths("/users/*", "/profile/*").build())));
        assertTrue(allowed(e, req("cluster.local/ns/production/sa/order-service", "DELETE", "/anything")));
        assertTrue(allowed(e, req(null, "GET", "/profile/me")), "the second rule has no source condition");
        assertFalse(allowed(e, req(OTHER, "DELETE", "/users/1")));
    }

    @Test
    void principalsMatchExactPrefixSuffixAndPresence() throws Exception {
        for (String[] c : new String[][] {{"cluster.local/ns/production/*", FRONTEND, OTHER},
                {"*/sa/frontend-service", FRONTEND, OTHER}, {"*", OTHER, null}}) {
            AuthorizationEngine e = AuthorizationEngine.of(
                    AuthorizationPolicy.allow("p", "ns", Rule.from(Source.builder().principals(c[0]).build())));
            assertTrue(allowed(e, req(c[1], "GET", "/")), c[0]);
            assertFalse(allowed(e, req(c[2], "GET", "/")), c[0]);
        }
    }

    @Test
    void notPrincipalsAndNamespaces() throws Exception {
        AuthorizationEngine deny = AuthorizationEngine.of(AuthorizationPolicy.deny("not-frontend", "production",
                Rule.from(Source.builder().notPrincipals(FRONTEND).build())));
        assertTrue(allowed(deny, req(FRONTEND, "GET", "/")));
        assertFalse(allowed(deny, req(OTHER, "GET", "/")));
        assertFalse(allowed(deny, req(null, "GET", "/")), "no principal is not the frontend either");

        AuthorizationEngine ns = AuthorizationEngine.of(AuthorizationPolicy.allow("from-production", "production",
                Rule.from(Source.builder().namespaces("production").build())));
        assertTrue(allowed(ns, req(FRONTEND, "GET", "/")));
        assertFalse(allowed(ns, req(OTHER, "GET", "/")));
        assertFalse(allowed(ns, req(null, "GET", "/")));
        assertFalse(allowed(ns, req("spiffe-less-name", "GET", "/")));

        AuthorizationEngine notNs = AuthorizationEngine.of(AuthorizationPolicy.allow("not-staging", "production",
                Rule.from(Source.builder().principals("*").notNamespaces("staging").build())));
        assertTrue(allowed(notNs, req(FRONTEND, "GET", "/")));
        assertFalse(allowed(notNs, req(OTHER, "GET", "/")));
    }

    @Test
    void ipBlocksV4AndV6() throws Exception {
        AuthorizationEngine e = AuthorizationEngine.of(AuthorizationPolicy.allow("ips", "ns",
                Rule.from(Source.builder().ipBlocks("10.1.0.0/16", "192.168.7.7", "2001:db8::/32")
                        .notIpBlocks("10.1.2.0/23").build())));
        for (String ok : new String[] {"10.1.0.1", "10.1.255.255", "192.168.7.7", "2001:db8:1::5", "::ffff:10.1.9.9"}) {
            assertTrue(allowed(e, req(null, ok, 80, "GET", "h", "/", null, null)), ok);
        }
        for (String no : new String[] {"10.2.0.1", "192.168.7.8", "2001:db9::1", "10.1.2.1", "10.1.3.200"}) {
            assertFalse(allowed(e, req(null, no, 80, "GET", "h", "/", null, null)), no);
        }
        assertFalse(allowed(e, req(null, null, 80, "GET", "h", "/", null, null)), "no source address");
    }

    @Test
    void operationsHostsPortsMethodsAndPaths() throws Exception {
        AuthorizationEngine e = AuthorizationEngine.of(AuthorizationPolicy.allow("ops", "ns", Rule.to(
                Operation.builder().hosts("users.example.com", "users.example.com:*").ports(8080, 9090).notPorts(9090)
                        .notMethods("DELETE").paths("/exact", "/prefix/*", "*.json").notPaths("/prefix/secret*").build())));
        assertTrue(allowed(e, req(null, "1.1.1.1", 8080, "GET", "USERS.example.com", "/exact", null, null)),
                "hosts ignore case");
        assertTrue(allowed(e, req(null, "1.1.1.1", 8080, "PUT", "users.example.com:8080", "/prefix/a", null, null)));
        assertTrue(allowed(e, req(null, "1.1.1.1", 8080, "GET", "users.example.com", "/x/y.json", null, null)));
        assertFalse(allowed(e, req(null, "1.1.1.1", 8080, "GET", "other.example.com", "/exact", null, null)), "host");
        assertFalse(allowed(e, req(null, "1.1.1.1", 8080, "GET", null, "/exact", null, null)), "no host");
        assertFalse(allowed(e, req(null, "1.1.1.1", 9090, "GET", "users.example.com", "/exact", null, null)), "notPorts");
        assertFalse(allowed(e, req(null, "1.1.1.1", 7070, "GET", "users.example.com", "/exact", null, null)), "ports");
        assertFalse(allowed(e, req(null, "1.1.1.1", 8080, "DELETE", "users.example.com", "/exact", null, null)), "notMethods");
        assertFalse(allowed(e, req(null, "1.1.1.1", 8080, "get", "users.example.com", "/exact/", null, null)), "exact path");
        assertFalse(allowed(e, req(null, "1.1.1.1", 8080, "GET", "users.example.com", "/prefix/secret/1", null, null)), "notPaths");
        assertFalse(allowed(e, req(null, "1.1.1.1", 8080, "GET", "users.example.com", "/x/y.jsonp", null, null)), "suffix");
    }

    @Test
    void whenOnHeadersAndTheRequestAuth() throws Exception {
        RequestAuth jwt = new RequestAuth("https://issuer.example/alice", List.of("api", "web"), "spa",
                Map.of("groups", List.of("admins", "dev"), "org", Map.of("tier", "gold"), "iss", "https://issuer.example"));
        AuthorizationEngine e = AuthorizationEngine.of(AuthorizationPolicy.allow("when", "ns", Rule.when(
                Condition.of("request.headers[x-env]", "prod*"),
                Condition.not("request.headers[x-debug]", "*"),
                Condition.of("request.auth.principal", "https://issuer.example/*"),
                Condition.of("request.auth.audiences", "web"),
                Condition.of("request.auth.presenter", "spa"),
                Condition.of("request.auth.claims[groups]", "admins"),
                Condition.of("request.auth.claims[org][tier]", "gold"),
                Condition.of("destination.port", "8080"),
                Condition.of("source.ip", "10.0.0.0/8"))));
        assertTrue(allowed(e, req(null, "10.0.0.1", 8080, "GET", "h", "/", Headers.of("x-env", "production"), jwt)));
        assertFalse(allowed(e, req(null, "10.0.0.1", 8080, "GET", "h", "/", Headers.of("x-env", "staging"), jwt)));
        assertFalse(allowed(e, req(null, "10.0.0.1", 8080, "GET", "h", "/", Headers.of("x-env", "prod", "x-debug", "1"), jwt)));
        assertFalse(allowed(e, req(null, "10.0.0.1", 8080, "GET", "h", "/", Headers.of("x-env", "prod"), null)), "no JWT");
        assertFalse(allowed(e, req(null, "10.0.0.1", 8081, "GET", "h", "/", Headers.of("x-env", "prod"), jwt)), "port");
        RequestAuth notAdmin = new RequestAuth(jwt.principal(), jwt.audiences(), "spa",
                Map.of("groups", List.of("dev"), "org", Map.of("tier", "gold")));
        assertFalse(allowed(e, req(null, "10.0.0.1", 8080, "GET", "h", "/", Headers.of("x-env", "prod"), notAdmin)));

        AuthorizationEngine requireJwt = AuthorizationEngine.of(AuthorizationPolicy.allow("require-jwt", "ns",
                Rule.from(Source.builder().requestPrincipals("*").build())));
        assertTrue(allowed(requireJwt, req(null, "GET", "/")) == false);
        assertTrue(allowed(requireJwt, req(null, "10.0.0.1", 80, "GET", "h", "/", null, jwt)));
        AuthorizationEngine source = AuthorizationEngine.of(AuthorizationPolicy.allow("source", "ns", Rule.when(
                Condition.of("source.namespace", "production"), Condition.of("source.principal", "*/sa/frontend-service"))));
        assertTrue(allowed(source, req(FRONTEND, "GET", "/")));
        assertFalse(allowed(source, req(OTHER, "GET", "/")));
    }

    @Test
    void invalidPoliciesAreRejectedAtConstruction() {
        assertThrows(IllegalArgumentException.class,
                () -> new AuthorizationPolicy("ext", "ns", AuthorizationPolicy.Action.CUSTOM, List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new AuthorizationPolicy("audit", "ns", AuthorizationPolicy.Action.AUDIT, List.of()));
        assertThrows(IllegalArgumentException.class, () -> Source.builder().ipBlocks("10.0.0.0/33").build());
        assertThrows(IllegalArgumentException.class, () -> Source.builder().ipBlocks("example.com").build());
        assertThrows(IllegalArgumentException.class, () -> Source.builder().principals("a*b").build());
        assertThrows(IllegalArgumentException.class, () -> Source.builder().principals("").build());
        assertThrows(IllegalArgumentException.class, () -> Operation.builder().ports(70000).build());
        assertThrows(IllegalArgumentException.class, () -> Condition.of("connection.sni", "x"));
        assertThrows(IllegalArgumentException.class, () -> Condition.of("destination.port", "http"));
        assertThrows(IllegalArgumentException.class, () -> new Condition("request.headers[x]", List.of(), List.of()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Source.builder().principals("ok", "a*b").build());
        assertTrue(e.getMessage().contains("principals[1]"), e.getMessage());
    }
}
