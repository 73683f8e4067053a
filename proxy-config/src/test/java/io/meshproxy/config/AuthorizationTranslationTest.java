package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.http.Headers;
import io.meshproxy.tls.authz.AuthorizationEngine;
import io.meshproxy.tls.authz.AuthorizationPolicy;
import io.meshproxy.tls.authz.CheckRequest;
import io.meshproxy.tls.authz.Condition;
import io.meshproxy.tls.authz.JwtRule;
import io.meshproxy.tls.authz.Operation;
import io.meshproxy.tls.authz.Rule;
import io.meshproxy.tls.authz.Source;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's AuthorizationPolicy and RequestAuthentication into {@link LoadedConfig#inboundSecurity()}: the values of
 * every field, Istio's scoping (every applying policy counts), the merge of JWT rules, and each error at its
 * place; and ServiceEntry {@code subjectAltNames} into the clusters' {@link UpstreamTls}.
 */
class AuthorizationTranslationTest {
    @TempDir
    Path dir;

    /** The user-service workload of the reference documents, namespace production. */
    static String proxy(String labels) {
        return """
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: user-service, namespace: production}
                spec:
                  listeners:
                  - {name: out, port: 0, direction: OUTBOUND}
                  - {name: in, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:8080"}
                  workload: {labels: {%s}}
                """.formatted(labels);
    }

    static final String PROXY = proxy("app: user-service");

    /** The reference document's two policies (003), verbatim. */
    static final String REFERENCE = """
            apiVersion: security.istio.io/v1beta1
            kind: AuthorizationPolicy
            metadata:
              name: deny-all
              namespace: production
            spec: {}  # Empty spec denies all requests
            ---
            apiVersion: security.istio.io/v1beta1
            kind: AuthorizationPolicy
            metadata:
              name: allow-frontend-to-user-service
              namespace: production
            spec:
              selector:
                matchLabels:
                  app: user-service
              action: ALLOW
              rules:
              - from:
                - source:
                    principals: ["cluster.local/ns/production/sa/frontend-service"]
                to:
                - operation:
                    methods: ["GET", "POST"]
                    paths: ["/api/users/*"]
            """;

    LoadedConfig load(String... yaml) throws Exception {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < yaml.length; i++) {
            Path f = dir.resolve(i == 0 ? "proxy.yaml" : "policy" + i + ".yaml");
            Files.writeString(f, yaml[i]);
            files.add(f);
        }
        return ConfigLoader.load(files);
    }

    List<String> errors(String... yaml) {
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> load(yaml));
        return e.errors().stream().map(x -> x.toString().replace(dir + "/", "")).toList();
    }

    static CheckRequest request(String principal, String method, String path) {
        return new CheckRequest(principal, InetAddress.getLoopbackAddress(), 15006, method, "user-service", path,
                new Headers(), null);
    }

    static String policy(String name, String namespace, String spec) {
        return """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: %s, namespace: %s}
                spec:
                """.formatted(name, namespace) + spec.indent(2);
    }

    // ---------------------------------------------------------------- values

    /** The other reference document's policies (002), verbatim: deny-all, user-service-access, jwt-validation. */
    static final String REFERENCE_002 = """
            # Deny-all default policy
            apiVersion: security.istio.io/v1beta1
            kind: AuthorizationPolicy
            metadata:
              name: deny-all
              namespace: production
            spec: {}  # Empty spec denies all requests

            ---
            # Allow specific service communication
            apiVersion: security.istio.io/v1beta1
            kind: AuthorizationPolicy
            metadata:
              name: user-service-access
              namespace: production
            spec:
              selector:
                matchLabels:
                  app: user-service
              rules:
              - from:
                - source:
                    principals: ["cluster.local/ns/production/sa/api-gateway"]
                - source:
                    principals: ["cluster.local/ns/production/sa/order-service"]
              - to:
                - operation:
                    methods: ["GET", "POST"]
                    paths: ["/users/*", "/profile/*"]

            ---
            # JWT validation for external traffic
            apiVersion: security.istio.io/v1beta1
            kind: RequestAuthentication
            metadata:
              name: jwt-validation
              namespace: production
            spec:
              selector:
                matchLabels:
                  app: api-gateway
              jwtRules:
              - issuer: "https://auth.company.com"
                jwksUri: "https://auth.company.com/.well-known/jwks.json"
                audiences: ["api.company.com"]
            """;

    @Test
    void theOtherReferencePoliciesAreTranslatedAsWrittenPitfallIncluded() throws Exception {
        LoadedConfig c = load(PROXY, REFERENCE_002);
        InboundSecurity s = c.inboundSecurity();
        assertEquals(List.of("deny-all", "user-service-access"),
                s.policies().stream().map(AuthorizationPolicy::name).toList());
        assertEquals(List.of(), s.jwtRules(), "jwt-validation selects app: api-gateway, not this workload");
        assertTrue(c.warnings().stream().anyMatch(w -> w.toString().contains(
                "RequestAuthentication 'jwt-validation' selects {app=api-gateway}")), c.warnings().toString());
        AuthorizationEngine engine = AuthorizationEngine.of(s.policies());
        assertTrue(engine.check(request("cluster.local/ns/production/sa/api-gateway", "DELETE", "/anything"))
                .allowed(), "the first rule has only 'from': any operation of those callers");
        // The second rule has only 'to' (it is a second list entry, not the first rule's 'to'): anyone, even
        // without mTLS, may GET /users/*. Translated as Istio reads it.
        assertTrue(engine.check(request(null, "GET", "/users/1")).allowed());
        assertFalse(engine.check(request(null, "DELETE", "/users/1")).allowed());
    }

    @Test
    void theReferencePoliciesBecomeDenyAllAndTheAllowRuleAsWritten() throws Exception {
        InboundSecurity s = load(PROXY, REFERENCE).inboundSecurity();
        Source frontend = Source.builder().principals("cluster.local/ns/production/sa/frontend-service").build();
        Operation users = Operation.builder().methods("GET", "POST").paths("/api/users/*").build();
        assertEquals(List.of(AuthorizationPolicy.denyAll("deny-all", "production"),
                AuthorizationPolicy.allow("allow-frontend-to-user-service", "production",
                        new Rule(List.of(frontend), List.of(users), List.of()))), s.policies());
        assertEquals(List.of(), s.jwtRules());

        AuthorizationEngine engine = AuthorizationEngine.of(s.policies());
        String caller = "cluster.local/ns/production/sa/frontend-service";
        assertTrue(engine.check(request(caller, "GET", "/api/users/1")).allowed());
        assertFalse(engine.check(request(caller, "DELETE", "/api/users/1")).allowed());
        assertFalse(engine.check(request(caller, "GET", "/api/orders")).allowed());
        assertFalse(engine.check(request("cluster.local/ns/production/sa/other", "GET", "/api/users/1")).allowed());
    }

    @Test
    void everyFieldOfSourceOperationAndConditionIsCarried() throws Exception {
        InboundSecurity s = load(PROXY, policy("all-fields", "production", """
                action: DENY
                rules:
                - from:
                  - source:
                      principals: ["a/*"]
                      notPrincipals: ["a/b"]
                      requestPrincipals: ["iss/*"]
                      notRequestPrincipals: ["iss/bad"]
                      namespaces: [team-a]
                      notNamespaces: [team-b]
                      ipBlocks: ["10.0.0.0/8"]
                      notIpBlocks: ["10.1.0.0/16"]
                  to:
                  - operation:
                      hosts: ["user-service", "user-service:*"]
                      notHosts: ["admin.*"]
                      ports: ["8080"]
                      notPorts: ["9090"]
                      methods: [DELETE]
                      notMethods: [GET]
                      paths: ["/admin/*"]
                      notPaths: ["*/health"]
                  when:
                  - key: request.headers[x-tenant]
                    values: ["acme"]
                    notValues: ["evil"]
                  - key: request.auth.claims[groups]
                    values: ["admins"]
                """)).inboundSecurity();
        Source src = new Source(List.of("a/*"), List.of("a/b"), List.of("team-a"), List.of("team-b"),
                List.of("10.0.0.0/8"), List.of("10.1.0.0/16"), List.of("iss/*"), List.of("iss/bad"));
        Operation op = new Operation(List.of("user-service", "user-service:*"), List.of("admin.*"), List.of(8080),
                List.of(9090), List.of("DELETE"), List.of("GET"), List.of("/admin/*"), List.of("*/health"));
        List<Condition> when = List.of(new Condition("request.headers[x-tenant]", List.of("acme"), List.of("evil")),
                Condition.of("request.auth.claims[groups]", "admins"));
        assertEquals(List.of(AuthorizationPolicy.deny("all-fields", "production", new Rule(List.of(src),
                List.of(op), when))), s.policies());
    }

    @Test
    void everyApplyingPolicyCountsAndOthersAreWarnedAbout() throws Exception {
        LoadedConfig c = load(PROXY,
                policy("mesh", "istio-system", "action: DENY\nrules: [{to: [{operation: {paths: [/mesh]}}]}]"),
                policy("mesh-selected", "istio-system", "selector: {matchLabels: {app: user-service}}\n"
                        + "action: DENY\nrules: [{to: [{operation: {paths: [/root-selected]}}]}]"),
                policy("namespace", "production", "action: DENY\nrules: [{to: [{operation: {paths: [/ns]}}]}]"),
                policy("workload", "production", "selector: {matchLabels: {app: user-service}}\n"
                        + "action: DENY\nrules: [{to: [{operation: {paths: [/wl]}}]}]"),
                policy("other-app", "production", "selector: {matchLabels: {app: orders}}\nrules: [{}]"),
                policy("other-ns", "staging", "rules: [{}]"));
        assertEquals(List.of("mesh", "mesh-selected", "namespace", "workload"),
                c.inboundSecurity().policies().stream().map(AuthorizationPolicy::name).toList());
        assertEquals(List.of("istio-system", "istio-system", "production", "production"),
                c.inboundSecurity().policies().stream().map(AuthorizationPolicy::namespace).toList());
        List<String> warnings = c.warnings().stream().map(x -> x.toString().replace(dir + "/", "")).toList();
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).startsWith("policy5.yaml:2:7: AuthorizationPolicy 'other-app' selects {app=orders}"),
                warnings.toString());
        assertTrue(warnings.get(1).startsWith("policy6.yaml:2:7: AuthorizationPolicy 'other-ns' applies to namespace"
                + " 'staging'"), warnings.toString());
    }

    @Test
    void aPolicyWithoutNamespaceIsInTheProxysNamespace() throws Exception {
        InboundSecurity s = load(PROXY, """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-nothing}
                spec: {}
                """).inboundSecurity();
        assertEquals(List.of(AuthorizationPolicy.denyAll("allow-nothing", "production")), s.policies());
    }

    @Test
    void noPoliciesNoRules() throws Exception {
        assertTrue(load(PROXY).inboundSecurity().isEmpty());
    }

    // ---------------------------------------------------------------- RequestAuthentication

    static final String JWKS = "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"k1\",\"alg\":\"HS256\","
            + "\"k\":\"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQ\"}]}";

    @Test
    void jwtRulesOfAllApplyingRequestAuthenticationsAreMerged() throws Exception {
        Files.writeString(dir.resolve("jwks.json"), JWKS);
        LoadedConfig c = load(PROXY, """
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: mesh, namespace: istio-system}
                spec:
                  jwtRules:
                  - issuer: "https://auth.company.com"
                    jwksUri: "https://auth.company.com/.well-known/jwks.json"
                    audiences: ["api.company.com"]
                    timeout: 2s
                """, """
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: local, namespace: production}
                spec:
                  selector: {matchLabels: {app: user-service}}
                  jwtRules:
                  - issuer: inline-issuer
                    jwks: '%s'
                    fromHeaders: [{name: x-jwt, prefix: "Token "}]
                    fromParams: [jwt]
                    forwardOriginalToken: true
                    outputPayloadToHeader: x-jwt-payload
                  - issuer: file-issuer
                    jwksUri: file:jwks.json
                """.formatted(JWKS));
        List<InboundSecurity.JwtRuleConfig> rules = c.inboundSecurity().jwtRules();
        assertEquals(List.of(
                new InboundSecurity.JwtRuleConfig("https://auth.company.com", List.of("api.company.com"),
                        new InboundSecurity.Jwks(null, null, URI.create("https://auth.company.com/.well-known/jwks.json"),
                                Duration.ofSeconds(2)), List.of(), List.of(), false, null),
                new InboundSecurity.JwtRuleConfig("inline-issuer", List.of(),
                        new InboundSecurity.Jwks(JWKS, null, null, null),
                        List.of(new JwtRule.JwtHeader("x-jwt", "Token ")), List.of("jwt"), true, "x-jwt-payload"),
                new InboundSecurity.JwtRuleConfig("file-issuer", List.of(),
                        new InboundSecurity.Jwks(null, dir.resolve("jwks.json"), null, null), List.of(), List.of(),
                        false, null)), rules);
        assertTrue(c.inboundSecurity().policies().isEmpty());
    }

    // ---------------------------------------------------------------- errors

    @Test
    void authorizationPolicyErrorsAreReportedAtTheirPlace() {
        assertEquals(List.of(
                "policy1.yaml:5:3: 'targetRef' is not supported yet (meshproxy is a sidecar: a policy chooses its"
                        + " workloads by 'selector' (or by its namespace without one))",
                "policy1.yaml:6:11: action AUDIT is not supported: ALLOW and DENY are",
                "policy2.yaml:5:3: 'provider' (external authorization, action CUSTOM) is not supported",
                "policy2.yaml:6:11: action CUSTOM is not supported: ALLOW and DENY are",
                "policy3.yaml:5:11: 'action' must be one of ALLOW, DENY, AUDIT, CUSTOM, was 'REJECT'"),
                errors(PROXY, policy("a", "production", "targetRef: {kind: Gateway, name: gw}\naction: AUDIT"),
                        policy("b", "production", "provider: {name: ext-authz}\naction: CUSTOM"),
                        policy("c", "production", "action: REJECT")));
    }

    @Test
    void badValuesAreReportedAtTheValue() {
        assertEquals(List.of(
                "policy1.yaml:8:34: ipBlocks[1]: '10.0.0.0/33': prefix length must be 0..32",
                "policy1.yaml:9:22: remoteIpBlocks' is not supported".isEmpty() ? "" : "policy1.yaml:9:9:"
                        + " 'remoteIpBlocks' is not supported: meshproxy does not derive the original client address"
                        + " (X-Forwarded-For with Istio's numTrustedProxies, or the PROXY protocol); ipBlocks match the"
                        + " connection's peer address",
                "policy1.yaml:12:24: paths[1]: '/a*b': '*' may only stand at the start or the end",
                "policy1.yaml:13:17: a port must be a number in 0..65535, was 'http'",
                "policy1.yaml:15:12: condition 'connection.sni': unsupported condition key (supported:"
                        + " request.headers[NAME], source.ip, source.namespace, source.principal,"
                        + " request.auth.principal, request.auth.audiences, request.auth.presenter,"
                        + " request.auth.claims[NAME], destination.port)",
                "policy1.yaml:18:16: condition 'source.ip': values[0]: 'not-an-ip' is not an IP address or CIDR block",
                "policy1.yaml:19:7: condition 'request.headers[x]' needs 'values' or 'notValues'",
                "policy1.yaml:21:7: missing required field 'source' in an entry of 'from'"),
                errors(PROXY, policy("bad", "production", """
                        rules:
                        - from:
                          - source:
                              ipBlocks: ["10.0.0.0/8", "10.0.0.0/33"]
                              remoteIpBlocks: ["1.2.3.4"]
                          to:
                          - operation:
                              paths: ["/ok", "/a*b"]
                              ports: ["http"]
                          when:
                          - key: connection.sni
                            values: [a]
                          - key: source.ip
                            values: [not-an-ip]
                          - key: request.headers[x]
                        - from:
                          - {}
                        """)));
    }

    @Test
    void requestAuthenticationErrorsAreReportedAtTheirPlace() {
        assertEquals(List.of(
                "policy1.yaml:6:5: a JWT rule needs 'jwks' or 'jwksUri': meshproxy does not discover keys from the"
                        + " issuer (OpenID Connect discovery)",
                "policy1.yaml:7:26: 'jwksUri' must be http, https or (meshproxy) file, was 'ftp://keys/jwks.json'",
                "policy1.yaml:9:11: 'jwks': malformed JWKS: Invalid JSON object",
                "policy1.yaml:11:14: 'jwksUri': no such file missing.json",
                "policy1.yaml:12:5: 'fromCookies' is not supported yet",
                "policy1.yaml:15:5: 'outputClaimToHeaders' is not supported yet (use outputPayloadToHeader)",
                "policy1.yaml:16:5: missing required field 'issuer' in an entry of 'jwtRules'"),
                errors(PROXY, """
                        apiVersion: security.istio.io/v1
                        kind: RequestAuthentication
                        metadata: {name: bad, namespace: production}
                        spec:
                          jwtRules:
                          - issuer: a
                          - {issuer: b, jwksUri: "ftp://keys/jwks.json"}
                          - issuer: c
                            jwks: "{not json"
                          - issuer: d
                            jwksUri: file:missing.json
                            fromCookies: [session]
                          - issuer: e
                            jwks: '{"keys":[]}'
                            outputClaimToHeaders: [{header: x, claim: sub}]
                          - jwks: '{"keys":[]}'
                        """));
    }

    @Test
    void twoRulesForOneIssuerAreAnError() {
        String ra = """
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: %s, namespace: production}
                spec:
                  jwtRules:
                  - issuer: a
                    jwks: '{"keys":[]}'
                """;
        assertEquals(List.of("policy2.yaml:6:13: a second JWT rule for issuer 'a' applies to this workload (the first"
                + " is at policy1.yaml:6:13): a token's issuer chooses its rule, keep one"),
                errors(PROXY, ra.formatted("one"), ra.formatted("two")));
    }

    // ---------------------------------------------------------------- ServiceEntry subjectAltNames

    @Test
    void serviceEntrySubjectAltNamesVerifyTheServerWhenTheDestinationRuleNamesNone() throws Exception {
        for (String f : List.of("chain.pem", "key.pem", "root.pem")) {
            Files.writeString(dir.resolve(f), "not parsed here\n");
        }
        String proxy = PROXY + "  identity: {certificateChain: chain.pem, privateKey: key.pem, trustBundle: root.pem}\n";
        LoadedConfig c = load(proxy, """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: ratings, namespace: production}
                spec:
                  hosts: [ratings.production.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1}]
                  subjectAltNames: ["spiffe://cluster.local/ns/production/sa/ratings"]
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: ratings, namespace: production}
                spec:
                  host: ratings.production.svc.cluster.local
                  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
                  subsets:
                  - name: own
                    labels: {}
                    trafficPolicy:
                      tls: {mode: ISTIO_MUTUAL, subjectAltNames: ["spiffe://cluster.local/ns/production/sa/other"]}
                """);
        ClusterConfig main = cluster(c, "outbound|9080||ratings.production.svc.cluster.local");
        assertEquals(List.of("spiffe://cluster.local/ns/production/sa/ratings"), main.tls().subjectAltNames());
        assertEquals(UpstreamTls.Mode.ISTIO_MUTUAL, main.tls().mode());
        assertEquals("outbound_.9080_._.ratings.production.svc.cluster.local", main.tls().sni());
        ClusterConfig own = cluster(c, "outbound|9080|own|ratings.production.svc.cluster.local");
        assertEquals(List.of("spiffe://cluster.local/ns/production/sa/other"), own.tls().subjectAltNames());
    }

    @Test
    void endpointServiceAccountsAreAcceptedIdentitiesOfIstioMutualOnly() throws Exception {
        for (String f : List.of("chain.pem", "key.pem", "root.pem")) {
            Files.writeString(dir.resolve(f), "not parsed here\n");
        }
        String proxy = PROXY + "  identity: {certificateChain: chain.pem, privateKey: key.pem, trustBundle: root.pem,"
                + " trustDomain: prod.example.com}\n";
        String entry = """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: ratings, namespace: production}
                spec:
                  hosts: [ratings.production.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints:
                  - {address: 127.0.0.1, serviceAccount: ratings}
                  - {address: 127.0.0.2, serviceAccount: ratings}
                  - {address: 127.0.0.3, serviceAccount: ratings-canary}
                  subjectAltNames: ["spiffe://prod.example.com/ns/production/sa/legacy"]
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: ratings, namespace: production}
                spec:
                  host: ratings.production.svc.cluster.local
                  trafficPolicy: {tls: {mode: %s}}
                """;
        ClusterConfig mutual = cluster(load(proxy, entry.formatted("ISTIO_MUTUAL")),
                "outbound|9080||ratings.production.svc.cluster.local");
        assertEquals(List.of("spiffe://prod.example.com/ns/production/sa/legacy",
                "spiffe://prod.example.com/ns/production/sa/ratings",
                "spiffe://prod.example.com/ns/production/sa/ratings-canary"), mutual.tls().subjectAltNames());
        // SIMPLE verifies the server's own certificate, not a mesh identity: only the written subjectAltNames
        ClusterConfig simple = cluster(load(proxy, entry.formatted("SIMPLE")),
                "outbound|9080||ratings.production.svc.cluster.local");
        assertEquals(List.of("spiffe://prod.example.com/ns/production/sa/legacy"), simple.tls().subjectAltNames());
    }

    @Test
    void aServiceAccountIsANameNotAPath() {
        assertEquals(List.of("policy1.yaml:8:52: 'serviceAccount' must be a service account name (no '/'), was"
                + " 'ns/production/sa/ratings'"), errors(PROXY, """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: ratings, namespace: production}
                spec:
                  hosts: [ratings]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1, serviceAccount: ns/production/sa/ratings}]
                """));
    }

    @Test
    void anEmptySubjectAltNameIsAnError() {
        assertEquals(List.of("policy1.yaml:8:21: an entry of 'subjectAltNames' must not be empty"), errors(PROXY, """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: ratings, namespace: production}
                spec:
                  hosts: [ratings]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: DNS
                  subjectAltNames: [""]
                """));
    }

    static ClusterConfig cluster(LoadedConfig c, String name) {
        return c.config().clusters().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
    }
}
