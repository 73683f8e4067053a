package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.config.ListenerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Proxy's {@code spec.identity} and Istio's PeerAuthentication into the {@code tlsMode} of INBOUND listeners:
 * mesh, namespace and workload levels, UNSET inheritance, {@code portLevelMtls} by workload port, the defaults
 * with and without an identity, and the errors at their places.
 */
class PeerAuthenticationTest {
    @TempDir
    Path dir;

    @BeforeEach
    void certificateFiles() throws Exception {
        Files.createDirectories(dir.resolve("certs"));
        // proxy-config only checks that they exist; proxy-tls parses them.
        for (String f : List.of("chain.pem", "key.pem", "root.pem")) {
            Files.writeString(dir.resolve("certs").resolve(f), "not parsed here\n");
        }
    }

    static final String IDENTITY =
            "  identity: {certificateChain: certs/chain.pem, privateKey: certs/key.pem, trustBundle: certs/root.pem}\n";

    /** The reviews-v1 workload in bookinfo: app's port 9080 and a metrics port 9090 served inbound. */
    static String proxy(String namespace, String more) {
        return """
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: reviews-v1%s}
                spec:
                  listeners:
                  - {name: out, port: 0, direction: OUTBOUND}
                  - {name: in, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:9080"}
                  - {name: metrics, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:9090"}
                  workload: {labels: {app: reviews, version: v1}}
                """.formatted(namespace == null ? "" : ", namespace: " + namespace) + more;
    }

    static String proxy(String more) {
        return proxy("bookinfo", more);
    }

    static String policy(String name, String namespace, String spec) {
        return """
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: %s, namespace: %s}
                spec:
                """.formatted(name, namespace) + spec.indent(2);
    }

    LoadedConfig load(String... yaml) throws Exception {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < yaml.length; i++) {
            Path f = dir.resolve(i == 0 ? "proxy.yaml" : "pa" + i + ".yaml");
            Files.writeString(f, yaml[i]);
            files.add(f);
        }
        return ConfigLoader.load(files);
    }

    /** Errors as printed, with this test's directory cut off the file names and paths. */
    List<String> errors(String... yaml) {
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> load(yaml));
        return e.errors().stream().map(x -> x.toString().replace(dir + "/", "")).toList();
    }

    List<String> warnings(LoadedConfig c) {
        return c.warnings().stream().map(x -> x.toString().replace(dir + "/", "")).toList();
    }

    static Map<String, DownstreamTlsMode> modes(LoadedConfig c) {
        Map<String, DownstreamTlsMode> out = new TreeMap<>();
        for (ListenerConfig l : c.config().listeners()) {
            out.put(l.name(), l.tlsMode());
        }
        return out;
    }

    static Map<String, DownstreamTlsMode> modes(DownstreamTlsMode in, DownstreamTlsMode metrics) {
        return new TreeMap<>(Map.of("out", DownstreamTlsMode.DISABLE, "in", in, "metrics", metrics));
    }

    static final DownstreamTlsMode DISABLE = DownstreamTlsMode.DISABLE;
    static final DownstreamTlsMode PERMISSIVE = DownstreamTlsMode.PERMISSIVE;
    static final DownstreamTlsMode STRICT = DownstreamTlsMode.STRICT;

    // ---------------------------------------------------------------- spec.identity

    @Test
    void identityFilesResolveAgainstTheDirectoryOfTheirFile() throws Exception {
        LoadedConfig c = load(proxy(IDENTITY));
        assertEquals(new IdentityFiles(dir.resolve("certs/chain.pem"), dir.resolve("certs/key.pem"),
                dir.resolve("certs/root.pem"), "cluster.local"), c.identity());
    }

    @Test
    void identityWithAbsolutePathsAndATrustDomain() throws Exception {
        LoadedConfig c = load(proxy("""
                  identity:
                    certificateChain: %s
                    privateKey: ./certs/../certs/key.pem
                    trustBundle: certs/root.pem
                    trustDomain: prod.example.com
                """.formatted(dir.resolve("certs/chain.pem"))));
        assertEquals(new IdentityFiles(dir.resolve("certs/chain.pem"), dir.resolve("certs/key.pem"),
                dir.resolve("certs/root.pem"), "prod.example.com"), c.identity());
        assertEquals("prod.example.com", c.telemetry().workload().trustDomain(),
                "the workload's own SPIFFE ID in the metrics is in the identity's trust domain");
    }

    @Test
    void withoutIdentityThereIsNone() throws Exception {
        assertNull(load(proxy("")).identity());
        assertEquals("cluster.local", load(proxy("")).telemetry().workload().trustDomain());
    }

    @Test
    void identityMistakesAtTheirPlaces() {
        assertEquals(List.of(
                "proxy.yaml:11:5: missing required field 'trustBundle' in 'identity'",
                "proxy.yaml:11:23: 'certificateChain': no such file certs/chain.crt",
                "proxy.yaml:12:17: 'privateKey': no such file certs (a directory)",
                "proxy.yaml:13:18: 'trustDomain' must be a DNS-like name such as cluster.local (the authority of"
                        + " spiffe://TRUST_DOMAIN/ns/NS/sa/SA), was 'Cluster Local'",
                "proxy.yaml:14:5: unknown field 'trustBundel' in 'identity' (did you mean 'trustBundle'?)"),
                errors(proxy("""
                          identity:
                            certificateChain: certs/chain.crt
                            privateKey: certs
                            trustDomain: Cluster Local
                            trustBundel: certs/root.pem
                        """)));
    }

    // ---------------------------------------------------------------- defaults

    @Test
    void noPolicyAndNoIdentityKeepsEveryListenerPlaintext() throws Exception {
        assertEquals(modes(DISABLE, DISABLE), modes(load(proxy(""))));
    }

    @Test
    void noPolicyWithAnIdentityIsPermissiveAsInIstio() throws Exception {
        assertEquals(modes(PERMISSIVE, PERMISSIVE), modes(load(proxy(IDENTITY))));
    }

    // ---------------------------------------------------------------- levels

    @Test
    void aRootNamespacePolicyWithoutSelectorAppliesMeshWide() throws Exception {
        LoadedConfig c = load(proxy(IDENTITY), policy("default", "istio-system", "mtls: {mode: STRICT}"));
        assertEquals(modes(STRICT, STRICT), modes(c), "OUTBOUND stays plaintext: the DestinationRule decides it");
        assertEquals(List.of(), c.warnings());
    }

    @Test
    void theNamespacePolicyWinsOverTheMeshPolicy() throws Exception {
        assertEquals(modes(PERMISSIVE, PERMISSIVE), modes(load(proxy(IDENTITY),
                policy("default", "istio-system", "mtls: {mode: STRICT}"),
                policy("default", "bookinfo", "mtls: {mode: PERMISSIVE}"))));
        assertEquals(modes(DISABLE, DISABLE), modes(load(proxy(IDENTITY),
                policy("default", "istio-system", "mtls: {mode: STRICT}"),
                policy("default", "bookinfo", "mtls: {mode: DISABLE}"))));
    }

    @Test
    void theWorkloadPolicyWinsOverTheNamespacePolicy() throws Exception {
        assertEquals(modes(STRICT, STRICT), modes(load(proxy(IDENTITY),
                policy("default", "bookinfo", "mtls: {mode: DISABLE}"),
                policy("reviews", "bookinfo", "selector: {matchLabels: {app: reviews}}\nmtls: {mode: STRICT}"))));
    }

    @Test
    void unsetInheritsFromTheLevelAbove() throws Exception {
        String mesh = policy("default", "istio-system", "mtls: {mode: STRICT}");
        // the workload's UNSET inherits the namespace's DISABLE
        assertEquals(modes(DISABLE, DISABLE), modes(load(proxy(IDENTITY), mesh,
                policy("default", "bookinfo", "mtls: {mode: DISABLE}"),
                policy("reviews", "bookinfo", "selector: {matchLabels: {version: v1}}\nmtls: {mode: UNSET}"))));
        // the namespace's UNSET (and a policy without mtls) inherits the mesh's STRICT
        assertEquals(modes(STRICT, STRICT), modes(load(proxy(IDENTITY), mesh,
                policy("default", "bookinfo", "mtls: {mode: UNSET}"),
                policy("reviews", "bookinfo", "selector: {matchLabels: {version: v1}}"))));
        // UNSET all the way: Istio's default, PERMISSIVE
        assertEquals(modes(PERMISSIVE, PERMISSIVE), modes(load(proxy(IDENTITY),
                policy("default", "istio-system", "mtls: {mode: UNSET}"))));
    }

    @Test
    void theWorkloadNamespaceIsDefaultWhenTheProxyNamesNone() throws Exception {
        assertEquals(modes(STRICT, STRICT), modes(load(proxy(null, IDENTITY),
                policy("default", "default", "mtls: {mode: STRICT}"))));
    }

    @Test
    void selectorsMatchTheAppAndVersionFieldsOfTheWorkloadToo() throws Exception {
        String proxy = proxy(IDENTITY).replace("workload: {labels: {app: reviews, version: v1}}",
                "workload: {app: reviews, version: v1, labels: {team: books}}");
        assertEquals(modes(STRICT, STRICT), modes(load(proxy, policy("reviews", "bookinfo",
                "selector: {matchLabels: {app: reviews, version: v1, team: books}}\nmtls: {mode: STRICT}"))));
    }

    @Test
    void policiesThatDoNotApplyAreLeftWithAWarning() throws Exception {
        LoadedConfig c = load(proxy(IDENTITY),
                policy("other", "payments", "mtls: {mode: STRICT}"),
                policy("ratings", "bookinfo", "selector: {matchLabels: {app: ratings}}\nmtls: {mode: STRICT}"),
                policy("reviews", "payments", "selector: {matchLabels: {app: reviews}}\nmtls: {mode: STRICT}"));
        assertEquals(modes(PERMISSIVE, PERMISSIVE), modes(c));
        assertEquals(List.of(
                "pa1.yaml:2:7: PeerAuthentication 'other' applies to namespace 'payments'; this workload is in"
                        + " 'bookinfo' (and the root namespace, for the whole mesh, is istio-system): it does not apply",
                "pa2.yaml:2:7: PeerAuthentication 'ratings' selects {app=ratings}, which this workload's labels"
                        + " {app=reviews, version=v1} do not match: it does not apply",
                "pa3.yaml:2:7: PeerAuthentication 'reviews' selects workloads of namespace 'payments'; this"
                        + " workload is in 'bookinfo': it does not apply"), warnings(c));
    }

    @Test
    void bothApiVersionsRead() throws Exception {
        assertEquals(modes(STRICT, STRICT), modes(load(proxy(IDENTITY),
                policy("default", "bookinfo", "mtls: {mode: STRICT}")
                        .replace("security.istio.io/v1", "security.istio.io/v1beta1"))));
    }

    // ---------------------------------------------------------------- portLevelMtls

    @Test
    void portLevelMtlsIsKeyedByTheWorkloadPortOfForwardTo() throws Exception {
        assertEquals(modes(STRICT, DISABLE), modes(load(proxy(IDENTITY), policy("reviews", "bookinfo", """
                selector: {matchLabels: {app: reviews}}
                mtls: {mode: STRICT}
                portLevelMtls:
                  9090: {mode: DISABLE}
                  15006: {mode: DISABLE}
                """))));
    }

    @Test
    void aPortLevelUnsetInheritsTheWorkloadsModeAndAPortLevelModeWinsOverEveryLevel() throws Exception {
        // no workload mode: the port's UNSET inherits the namespace's PERMISSIVE; port 9080 is STRICT
        assertEquals(modes(STRICT, PERMISSIVE), modes(load(proxy(IDENTITY),
                policy("default", "istio-system", "mtls: {mode: DISABLE}"),
                policy("default", "bookinfo", "mtls: {mode: PERMISSIVE}"),
                policy("reviews", "bookinfo", """
                        selector: {matchLabels: {app: reviews}}
                        portLevelMtls:
                          9080: {mode: STRICT}
                          9090: {mode: UNSET}
                        """))));
    }

    // ---------------------------------------------------------------- errors

    @Test
    void permissiveOrStrictWithoutAnIdentityIsAnErrorAtThePolicysMode() {
        assertEquals(List.of(
                "pa1.yaml:6:16: mTLS mode STRICT for listener 'in' needs spec.identity in the Proxy at proxy.yaml:2:7"
                        + " (the workload certificate to present)",
                "pa1.yaml:8:18: mTLS mode PERMISSIVE for listener 'metrics' needs spec.identity in the Proxy at"
                        + " proxy.yaml:2:7 (the workload certificate to present)"),
                errors(proxy(""), policy("reviews", "bookinfo", """
                        selector: {matchLabels: {app: reviews}}
                        mtls: {mode: STRICT}
                        portLevelMtls:
                          9090: {mode: PERMISSIVE}
                        """)));
    }

    @Test
    void disableWithoutAnIdentityIsFine() throws Exception {
        assertEquals(modes(DISABLE, DISABLE), modes(load(proxy(""),
                policy("default", "istio-system", "mtls: {mode: DISABLE}"))));
    }

    @Test
    void twoPoliciesAtOneLevelAreAnError() {
        assertEquals(List.of(
                "pa2.yaml:2:7: a second PeerAuthentication for the whole namespace 'bookinfo': 'a' at pa1.yaml:2:7"
                        + " is one already; Istio would apply only the older of them, keep one",
                "pa4.yaml:2:7: a second PeerAuthentication for this workload: 'c' at pa3.yaml:2:7 is one already;"
                        + " Istio would apply only the older of them, keep one"),
                errors(proxy(IDENTITY),
                        policy("a", "bookinfo", "mtls: {mode: STRICT}"),
                        policy("b", "bookinfo", "mtls: {mode: STRICT}"),
                        policy("c", "bookinfo", "selector: {matchLabels: {app: reviews}}"),
                        policy("d", "bookinfo", "selector: {matchLabels: {version: v1}}")));
    }

    @Test
    void portLevelMtlsMistakes() {
        assertEquals(List.of(
                "pa1.yaml:5:3: 'portLevelMtls' needs a 'selector': Istio applies it to the workloads a policy selects,"
                        + " never namespace- or mesh-wide",
                "pa1.yaml:6:5: a key of 'portLevelMtls' must be a port in 1..65535, was '0'",
                "pa1.yaml:7:18: 'mode' must be one of UNSET, DISABLE, PERMISSIVE, STRICT, was 'STRIC' (did you"
                        + " mean 'STRICT'?)",
                "pa1.yaml:8:11: port 9091 of 'portLevelMtls' must be a mapping, got string 'STRICT'"),
                errors(proxy(IDENTITY), policy("default", "bookinfo", """
                        portLevelMtls:
                          0: {mode: STRICT}
                          9090: {mode: STRIC}
                          9091: STRICT
                        """)));
    }

    @Test
    void anEmptySelectorIsAnError() {
        assertEquals(List.of("pa1.yaml:5:13: a selector needs 'matchLabels'; without 'selector' a PeerAuthentication"
                + " applies to its whole namespace"), errors(proxy(IDENTITY),
                policy("default", "bookinfo", "selector: {}\nmtls: {mode: STRICT}")));
    }

    // ---------------------------------------------------------------- the reference documents

    /**
     * The reference documents' namespace-wide policy ({@code default} in {@code production}, STRICT), verbatim:
     * as Istio documents it, every workload of production accepts mTLS only, and other namespaces are untouched.
     */
    @Test
    void theReferenceDocumentsProductionPolicyIsStrictForProductionOnly() throws Exception {
        Path reference = ReferenceDocumentsTest.copy("production-peer-authentication.yaml", dir);
        Path proxyFile = dir.resolve("proxy.yaml");
        Files.writeString(proxyFile, proxy("production", IDENTITY));
        LoadedConfig production = ConfigLoader.load(proxyFile, reference);
        assertEquals(modes(STRICT, STRICT), modes(production));
        assertEquals(List.of(), production.warnings());

        Files.writeString(proxyFile, proxy("staging", IDENTITY));
        LoadedConfig staging = ConfigLoader.load(proxyFile, reference);
        assertEquals(modes(PERMISSIVE, PERMISSIVE), modes(staging));
        assertEquals(1, staging.warnings().size(), staging.warnings().toString());
    }
}
