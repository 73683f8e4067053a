package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Broken configurations, each with the exact {@code FILE:LINE:COLUMN: message} of every error it must produce.
 * The valid parts (a Proxy in proxy.yaml, the reviews ServiceEntry and DestinationRule in reviews.yaml) are
 * fixed; each case adds one file, case.yaml, with its mistakes.
 */
class BrokenConfigTest {
    static final String PROXY = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: sidecar}
            spec:
              admin: {port: 0}
              listeners:
              - {name: outbound, port: 0, direction: OUTBOUND}
            """;

    static final String REVIEWS = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: reviews}
            spec:
              hosts: [reviews.default.svc.cluster.local]
              ports: [{number: 9080, name: http, protocol: HTTP}]
              resolution: STATIC
              endpoints:
              - {address: 127.0.0.1, ports: {http: 19081}, labels: {version: v1}}
              - {address: 127.0.0.1, ports: {http: 19082}, labels: {version: v2}}
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews}
            spec:
              host: reviews
              subsets:
              - {name: v1, labels: {version: v1}}
              - {name: v2, labels: {version: v2}}
            """;

    /** The errors of proxy.yaml + reviews.yaml + case.yaml, as printed. */
    static List<String> errors(String caseYaml) {
        return errorsOf(List.of(new ConfigSource("proxy.yaml", PROXY), new ConfigSource("reviews.yaml", REVIEWS),
                new ConfigSource("case.yaml", caseYaml)));
    }

    static List<String> errorsOf(List<ConfigSource> sources) {
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> ConfigLoader.loadSources(sources));
        List<String> out = new ArrayList<>();
        e.errors().forEach(x -> out.add(x.toString()));
        return out;
    }

    /** A VirtualService for reviews whose http section is {@code http} (indented by two spaces; line 6 onwards). */
    static String vs(String http) {
        return """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: reviews}
                spec:
                  hosts: [reviews]
                """ + http;
    }

    @Test
    void unknownFieldSuggestsTheNearName() {
        assertEquals(List.of("case.yaml:8:36: unknown field 'subst' in 'destination' (did you mean 'subset'?)"),
                errors(vs("""
                          http:
                          - route:
                            - destination: {host: reviews, subst: v2}
                        """)));
    }

    @Test
    void wrongType() {
        assertEquals(List.of("case.yaml:9:15: 'weight' must be an integer, got string '90'"), errors(vs("""
                  http:
                  - route:
                    - destination: {host: reviews, subset: v1}
                      weight: "90"
                    - destination: {host: reviews, subset: v2}
                      weight: 10
                """)));
    }

    @Test
    void missingRequiredField() {
        assertEquals(List.of("case.yaml:8:20: missing required field 'host' in 'destination'"), errors(vs("""
                  http:
                  - route:
                    - destination: {subset: v2}
                """)));
    }

    @Test
    void badRegex() {
        assertEquals(List.of("case.yaml:8:20: bad regular expression in 'regex': Unclosed group near index 13 of"
                + " '/reviews/(\\d+'"), errors(vs("""
                  http:
                  - match:
                    - uri: {regex: '/reviews/(\\d+'}
                    route:
                    - destination: {host: reviews}
                """)));
    }

    @Test
    void weightsThatDoNotAddUp() {
        assertEquals(List.of("case.yaml:8:5: the weights of the destinations add up to 90, not 100"), errors(vs("""
                  http:
                  - name: split
                    route:
                    - {destination: {host: reviews, subset: v1}, weight: 80}
                    - {destination: {host: reviews, subset: v2}, weight: 10}
                """)));
    }

    @Test
    void routeToAHostWithoutServiceEntry() {
        assertEquals(List.of("case.yaml:8:27: destination host 'ratings' matches no ServiceEntry host"), errors(vs("""
                  http:
                  - route:
                    - destination: {host: ratings}
                """)));
    }

    @Test
    void undefinedSubset() {
        assertEquals(List.of("case.yaml:8:44: subset 'v3' is not defined by the DestinationRule of host"
                + " 'reviews.default.svc.cluster.local' (it defines v1, v2)"), errors(vs("""
                  http:
                  - route:
                    - destination: {host: reviews, subset: v3}
                """)));
    }

    @Test
    void misspeltSubsetSuggestsTheDefinedOne() {
        assertEquals(List.of("case.yaml:8:44: subset 'v01' is not defined by the DestinationRule of host"
                + " 'reviews.default.svc.cluster.local' (it defines v1, v2) (did you mean 'v1'?)"), errors(vs("""
                  http:
                  - route:
                    - destination: {host: reviews, subset: v01}
                """)));
    }

    @Test
    void subsetSelectingNoEndpoint() {
        String reviews = REVIEWS.replace("{name: v2, labels: {version: v2}}", "{name: v2, labels: {version: v3}}");
        assertEquals(List.of("reviews.yaml:19:24: subset 'v2' selects no endpoint of host"
                + " 'reviews.default.svc.cluster.local': no endpoint has the labels version=v3"),
                errorsOf(List.of(new ConfigSource("proxy.yaml", PROXY), new ConfigSource("reviews.yaml", reviews))));
    }

    @Test
    void duplicateListenerPorts() {
        String proxy = """
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: sidecar}
                spec:
                  admin: {port: 15000}
                  listeners:
                  - {name: outbound, port: 15001, direction: OUTBOUND}
                  - {name: inbound, port: 15001, direction: INBOUND, forwardTo: "127.0.0.1:8080"}
                  - {name: other, port: 15000, direction: OUTBOUND}
                """;
        assertEquals(List.of(
                "proxy.yaml:8:27: port 15001 is already used by listener 'outbound' at proxy.yaml:7:28",
                "proxy.yaml:9:25: port 15000 is already used by the admin server at proxy.yaml:5:17"),
                errorsOf(List.of(new ConfigSource("proxy.yaml", proxy))));
    }

    @Test
    void unknownKind() {
        assertEquals(List.of("case.yaml:2:7: unknown kind 'VirtualServce' (did you mean 'VirtualService'?); meshproxy"
                + " reads Proxy, ServiceEntry, VirtualService, DestinationRule, PeerAuthentication, AuthorizationPolicy,"
                + " RequestAuthentication, Telemetry"), errors("""
                apiVersion: networking.istio.io/v1
                kind: VirtualServce
                metadata: {name: reviews}
                spec: {hosts: [reviews]}
                """));
    }

    @Test
    void typosInRetriesAndFaultAreCaught() {
        assertEquals(List.of(
                "case.yaml:10:15: unknown field 'perTryTimout' in 'retries' (did you mean 'perTryTimeout'?)",
                "case.yaml:11:20: an abort needs 'httpStatus' or 'grpcStatus'",
                "case.yaml:11:21: unknown field 'httpStatuss' in 'abort' (did you mean 'httpStatus'?)"), errors(vs("""
                  http:
                  - route:
                    - destination: {host: reviews}
                    retries: {attempts: 3,
                              perTryTimout: 2s}
                    fault: {abort: {httpStatuss: 503, percentage: {value: 10}}}
                """)));
    }

    @Test
    void fieldsOfLaterIssuesParseAndAreNamedAsNotSupported() {
        assertEquals(List.of(
                "case.yaml:9:5: 'mirror' is not supported yet (comes with traffic mirroring)",
                "case.yaml:9:29: unknown field 'subst' in 'mirror' (did you mean 'subset'?)"), errors(vs("""
                  http:
                  - route:
                    - destination: {host: reviews}
                    mirror: {host: reviews, subst: v2}
                """)));
    }

    @Test
    void yamlSyntaxError() {
        List<String> errors = errors("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: reviews
                spec: {}
                """);
        assertEquals(1, errors.size(), errors.toString());
        assertEquals("case.yaml:4:5: YAML syntax: expected ',' or '}', but got : (while parsing a flow mapping)",
                errors.get(0));
    }

    @Test
    void unquotedBooleanHeaderValue() {
        assertEquals(List.of("case.yaml:8:33: 'exact' must be a string, got boolean 'true' (quote it: \"true\")"),
                errors(vs("""
                          http:
                          - match:
                            - headers: {canary: {exact: true}}
                            route:
                            - destination: {host: reviews, subset: v2}
                        """)));
    }

    @Test
    void wrongApiVersion() {
        assertEquals(List.of("case.yaml:1:13: apiVersion of VirtualService must be one of networking.istio.io/v1,"
                + " networking.istio.io/v1alpha3, networking.istio.io/v1beta1, was 'networking.istio.io/v2'"), errors("""
                apiVersion: networking.istio.io/v2
                kind: VirtualService
                metadata: {name: reviews}
                spec:
                  hosts: [reviews]
                  http:
                  - route: [{destination: {host: reviews}}]
                """));
    }

    @Test
    void duplicateField() {
        assertEquals(List.of("case.yaml:9:5: duplicate field 'route', first set at line 7"), errors(vs("""
                  http:
                  - route:
                    - destination: {host: reviews, subset: v1}
                    route:
                    - destination: {host: reviews, subset: v2}
                """)));
    }

    @Test
    void noProxyResource() {
        assertEquals(List.of("reviews.yaml:1:1: no Proxy resource (apiVersion: meshproxy.io/v1alpha1, kind: Proxy) in"
                + " this file: it names the listeners and the admin server"),
                errorsOf(List.of(new ConfigSource("reviews.yaml", REVIEWS))));
    }

    @Test
    void staticEndpointMustBeAnIpAddress() {
        assertEquals(List.of("case.yaml:8:25: with resolution STATIC an endpoint address must be an IP address, was"
                + " 'ratings.internal' (use resolution DNS for host names)"), errors("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: ratings}
                spec:
                  hosts: [ratings.default.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: ratings.internal}]
                """));
    }

    @Test
    void virtualServiceForAHostWithoutServiceEntry() {
        assertEquals(List.of("case.yaml:5:11: VirtualService host 'reviewz' matches no ServiceEntry host"),
                errors("""
                        apiVersion: networking.istio.io/v1
                        kind: VirtualService
                        metadata: {name: reviews}
                        spec:
                          hosts: [reviewz]
                          http:
                          - route: [{destination: {host: reviews}}]
                        """));
    }

    @Test
    void aPeerAuthenticationModeTypo() {
        assertEquals(List.of(
                "case.yaml:6:11: 'mode' must be one of UNSET, DISABLE, PERMISSIVE, STRICT, was 'STRIKT' (did you mean"
                        + " 'STRICT'?)"), errors("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: default, namespace: istio-system}
                spec:
                  mtls:
                    mode: STRIKT
                """));
    }

    @Test
    void authorizationKindsAreCheckedFieldByField() {
        assertEquals(List.of(
                "case.yaml:5:11: 'action' must be one of ALLOW, DENY, AUDIT, CUSTOM, was 'DENNY' (did you mean"
                        + " 'DENY'?)",
                "case.yaml:12:5: missing required field 'issuer' in an entry of 'jwtRules'"), errors("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-all}
                spec:
                  action: DENNY
                ---
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt}
                spec:
                  jwtRules:
                  - jwksUri: https://example.com/jwks.json
                """));
    }

    @Test
    void invalidEnumValue() {
        String reviews = REVIEWS.replace("  host: reviews\n", "  host: reviews\n  trafficPolicy: {loadBalancer: {simple: ROUND_ROBBIN}}\n");
        assertEquals(List.of("reviews.yaml:17:42: 'simple' must be one of UNSPECIFIED, ROUND_ROBIN, LEAST_REQUEST,"
                + " LEAST_CONN, RANDOM, PASSTHROUGH, was 'ROUND_ROBBIN' (did you mean 'ROUND_ROBIN'?)"),
                errorsOf(List.of(new ConfigSource("proxy.yaml", PROXY), new ConfigSource("reviews.yaml", reviews))));
    }

    @Test
    void badDuration() {
        assertEquals(List.of("case.yaml:9:14: 'timeout' must be a duration such as 10s, 1.5s, 250ms or 1m, was"
                + " '10 seconds'"), errors(vs("""
                  http:
                  - route:
                    - destination: {host: reviews}
                    timeout: 10 seconds
                """)));
    }

    @Test
    void everyErrorOfEveryFileAtOnceSortedByPlace() {
        String proxy = PROXY.replace("direction: OUTBOUND", "dirction: OUTBOUND");
        List<String> errors = errorsOf(List.of(new ConfigSource("proxy.yaml", proxy),
                new ConfigSource("reviews.yaml", REVIEWS), new ConfigSource("case.yaml", vs("""
                          http:
                          - route:
                            - destination: {host: reviews, subset: v9}
                        """))));
        assertEquals(List.of(
                "case.yaml:8:44: subset 'v9' is not defined by the DestinationRule of host"
                        + " 'reviews.default.svc.cluster.local' (it defines v1, v2)",
                "proxy.yaml:7:5: missing required field 'direction' in an entry of 'listeners'",
                "proxy.yaml:7:31: unknown field 'dirction' in an entry of 'listeners' (did you mean 'direction'?)"),
                errors);
    }

    @Test
    void staticWithoutEndpoints() {
        assertEquals(List.of("case.yaml:7:3: resolution STATIC needs at least one endpoint in 'endpoints'"), errors("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: ratings}
                spec:
                  hosts: [ratings.default.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: []
                """));
    }

    @Test
    void matchOnAPortTheHostDoesNotHave() {
        assertEquals(List.of("case.yaml:8:13: host 'reviews.default.svc.cluster.local' has no port 9090 (it has 9080):"
                + " this match can never apply"), errors(vs("""
                  http:
                  - match:
                    - port: 9090
                    route:
                    - destination: {host: reviews}
                """)));
    }

    @Test
    void aStringMatchWithoutAValue() {
        assertEquals(List.of("case.yaml:8:26: 'exact' needs a value (to match a header's presence, write {})"),
                errors(vs("""
                          http:
                          - match:
                            - headers: {canary: {exact: }}
                            route:
                            - destination: {host: reviews}
                        """)));
    }

    @Test
    void typosInsideTlsAreCaughtWithTheOtherErrors() {
        String reviews = REVIEWS.replace("  host: reviews\n",
                "  host: reviews\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL, snii: x}\n"
                        + "    outlierDetection: {consecutiv5xxErrors: 5}\n");
        assertEquals(List.of(
                "reviews.yaml:18:17: tls mode ISTIO_MUTUAL needs spec.identity in the Proxy at proxy.yaml:2:7 (the"
                        + " workload certificate to present)",
                "reviews.yaml:18:31: unknown field 'snii' in 'tls' (did you mean 'sni'?)",
                "reviews.yaml:19:24: unknown field 'consecutiv5xxErrors' in 'outlierDetection' (did you mean"
                        + " 'consecutive5xxErrors'?)"),
                errorsOf(List.of(new ConfigSource("proxy.yaml", PROXY), new ConfigSource("reviews.yaml", reviews))));
    }

    @Test
    void listenerEndpointAndPortMistakesComeWithTheOthersInOneReport() {
        String proxy = PROXY.replace("  - {name: outbound, port: 0, direction: OUTBOUND}\n",
                "  - {name: outbound, port: 0, direction: OUTBOUND}\n  - {name: outbound, port: 0, direction: OUTBOUND}\n");
        String reviews = REVIEWS.replace("{http: 19082}, labels: {version: v2}}", "{http: 19081}, labels: {version: v2}}");
        List<String> errors = errorsOf(List.of(new ConfigSource("proxy.yaml", proxy),
                new ConfigSource("reviews.yaml", reviews), new ConfigSource("case.yaml", """
                        apiVersion: networking.istio.io/v1
                        kind: ServiceEntry
                        metadata: {name: ratings}
                        spec:
                          hosts: [ratings.default.svc.cluster.local]
                          ports: [{number: 80, name: http, protocol: HTTP}, {number: 81, name: alt, protocol: HTTP}]
                          resolution: STATIC
                          endpoints: [{address: 127.0.0.1}]
                        ---
                        apiVersion: networking.istio.io/v1
                        kind: VirtualService
                        metadata: {name: reviews}
                        spec:
                          hosts: [reviews]
                          http:
                          - route: [{destination: {host: ratings}}]
                          - route: [{destination: {host: reviews, subset: v3}}]
                        """)));
        assertEquals(List.of(
                "case.yaml:16:34: host 'ratings.default.svc.cluster.local' has several ports (80, 81): set"
                        + " 'destination.port'",
                "case.yaml:17:51: subset 'v3' is not defined by the DestinationRule of host"
                        + " 'reviews.default.svc.cluster.local' (it defines v1, v2)",
                "proxy.yaml:8:12: duplicate listener name 'outbound', also at proxy.yaml:7:12",
                "reviews.yaml:10:5: duplicate endpoint 127.0.0.1:19081 for port http"), errors);
    }

    @Test
    void hostileNestingIsAnErrorNotACrash() {
        String deep = "[".repeat(20_000) + "]".repeat(20_000);
        assertEquals(List.of("case.yaml:1:1: YAML nested too deeply to be a configuration"), errors(deep));
    }

    @Test
    void aServiceEntryWithoutPorts() {
        assertEquals(List.of("case.yaml:6:10: 'ports' must name at least one port, as Istio requires"), errors("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: ratings}
                spec:
                  hosts: [ratings.default.svc.cluster.local]
                  ports: []
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1}]
                """));
    }
}
