package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.config.UpstreamTls.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DestinationRule {@code trafficPolicy.tls} into {@link io.meshproxy.core.config.ClusterConfig#tls()}: every mode,
 * the merge of the rule's, its port-level entries' and its subsets' settings, istiod's SNI for ISTIO_MUTUAL, the
 * file paths, and the errors at their places.
 */
class DestinationRuleTlsTest {
    @TempDir
    Path dir;

    @BeforeEach
    void files() throws Exception {
        Files.createDirectories(dir.resolve("certs"));
        for (String f : List.of("chain.pem", "key.pem", "root.pem", "client.pem", "client-key.pem", "ca.pem")) {
            Files.writeString(dir.resolve("certs").resolve(f), "not parsed here\n");
        }
    }

    static final String PROXY = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: productpage, namespace: default}
            spec:
              listeners:
              - {name: out, port: 0, direction: OUTBOUND}
            """;
    static final String IDENTITY =
            "  identity: {certificateChain: certs/chain.pem, privateKey: certs/key.pem, trustBundle: certs/root.pem}\n";

    /** reviews on ports 9080 and 9443, two versions. */
    static final String REVIEWS = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: reviews}
            spec:
              hosts: [reviews.default.svc.cluster.local]
              ports:
              - {number: 9080, name: http, protocol: HTTP}
              - {number: 9443, name: http-tls, protocol: HTTP}
              resolution: STATIC
              endpoints:
              - {address: 127.0.0.1, labels: {version: v1}}
              - {address: 127.0.0.2, labels: {version: v2}}
            """;
    static final String HOST = "reviews.default.svc.cluster.local";

    /** A DestinationRule for reviews whose spec continues with {@code more} (its first line is line 5). */
    static String rule(String more) {
        return """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: reviews}
                spec:
                  host: reviews
                """ + more.indent(2);
    }

    LoadedConfig load(boolean identity, String rule) throws Exception {
        Path proxy = Files.writeString(dir.resolve("proxy.yaml"), PROXY + (identity ? IDENTITY : ""));
        Path reviews = Files.writeString(dir.resolve("reviews.yaml"), REVIEWS);
        Path dr = Files.writeString(dir.resolve("dr.yaml"), rule);
        return ConfigLoader.load(proxy, reviews, dr);
    }

    List<String> errors(boolean identity, String rule) {
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> load(identity, rule));
        return e.errors().stream().map(x -> x.toString().replace(dir + "/", "")).toList();
    }

    static UpstreamTls tls(LoadedConfig c, int port, String subset) {
        return c.config().cluster("outbound|" + port + "|" + (subset == null ? "" : subset) + "|" + HOST).tls();
    }

    static UpstreamTls istioMutual(int port, String subset) {
        return new UpstreamTls(Mode.ISTIO_MUTUAL, "outbound_." + port + "_." + (subset == null ? "" : subset) + "_."
                + HOST, List.of(), null, null, null);
    }

    @Test
    void withoutTlsEveryClusterIsPlaintext() throws Exception {
        LoadedConfig c = load(false, rule("subsets: [{name: v1, labels: {version: v1}}]"));
        assertNull(tls(c, 9080, null));
        assertNull(tls(c, 9080, "v1"));
    }

    @Test
    void istioMutualAppliesToEveryPortAndSubsetWithIstiodsSni() throws Exception {
        LoadedConfig c = load(true, rule("""
                trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
                subsets: [{name: v1, labels: {version: v1}}]
                """));
        assertEquals(istioMutual(9080, null), tls(c, 9080, null));
        assertEquals("outbound_.9080_._.reviews.default.svc.cluster.local", tls(c, 9080, null).sni());
        assertEquals(istioMutual(9443, null), tls(c, 9443, null));
        assertEquals(istioMutual(9080, "v1"), tls(c, 9080, "v1"));
        assertEquals("outbound_.9080_.v1_.reviews.default.svc.cluster.local", tls(c, 9080, "v1").sni());
    }

    @Test
    void istioMutualKeepsAWrittenSniAndSubjectAltNames() throws Exception {
        LoadedConfig c = load(true, rule("""
                trafficPolicy:
                  tls:
                    mode: ISTIO_MUTUAL
                    sni: reviews.internal
                    subjectAltNames: ["spiffe://cluster.local/ns/default/sa/bookinfo-reviews"]
                """));
        assertEquals(new UpstreamTls(Mode.ISTIO_MUTUAL, "reviews.internal",
                List.of("spiffe://cluster.local/ns/default/sa/bookinfo-reviews"), null, null, null), tls(c, 9080, null));
    }

    @Test
    void simpleAndMutualTakeFilesResolvedAgainstTheirFilesDirectory() throws Exception {
        LoadedConfig c = load(false, rule("""
                trafficPolicy:
                  tls: {mode: SIMPLE, sni: reviews.example.com, caCertificates: certs/ca.pem}
                  portLevelSettings:
                  - port: {number: 9443}
                    tls:
                      mode: MUTUAL
                      clientCertificate: certs/client.pem
                      privateKey: %s
                      caCertificates: certs/ca.pem
                      subjectAltNames: [reviews.example.com]
                """.formatted(dir.resolve("certs/client-key.pem"))));
        assertEquals(new UpstreamTls(Mode.SIMPLE, "reviews.example.com", List.of(),
                dir.resolve("certs/ca.pem").toString(), null, null), tls(c, 9080, null));
        assertEquals(new UpstreamTls(Mode.MUTUAL, null, List.of("reviews.example.com"),
                dir.resolve("certs/ca.pem").toString(), dir.resolve("certs/client.pem").toString(),
                dir.resolve("certs/client-key.pem").toString()), tls(c, 9443, null));
    }

    @Test
    void subsetsAndPortLevelSettingsMergeAsIstiodMergesThem() throws Exception {
        LoadedConfig c = load(true, rule("""
                trafficPolicy:
                  tls: {mode: ISTIO_MUTUAL}
                  portLevelSettings:
                  - port: {number: 9443}
                    connectionPool: {tcp: {maxConnections: 10}}
                subsets:
                - name: v1
                  labels: {version: v1}
                - name: v2
                  labels: {version: v2}
                  trafficPolicy:
                    tls: {mode: DISABLE}
                    portLevelSettings:
                    - port: {number: 9443}
                      tls: {mode: SIMPLE}
                - name: legacy
                  labels: {version: v1}
                  trafficPolicy:
                    loadBalancer: {simple: RANDOM}
                """));
        assertEquals(istioMutual(9080, null), tls(c, 9080, null));
        // A port-level entry replaces the rule's policy whole: what it leaves out takes its default, no TLS.
        assertNull(tls(c, 9443, null));
        assertEquals(istioMutual(9080, "v1"), tls(c, 9080, "v1"), "a subset without tls inherits the rule's");
        assertNull(tls(c, 9443, "v1"));
        assertNull(tls(c, 9080, "v2"), "the subset's DISABLE wins");
        assertEquals(new UpstreamTls(Mode.SIMPLE, null, List.of(), null, null, null), tls(c, 9443, "v2"));
        assertEquals(istioMutual(9080, "legacy"), tls(c, 9080, "legacy"),
                "a subset policy without tls keeps the rule's tls");
    }

    @Test
    void istioMutualWithoutAnIdentityIsAnErrorAtItsMode() {
        assertEquals(List.of(
                "dr.yaml:6:31: tls mode ISTIO_MUTUAL needs spec.identity in the Proxy at proxy.yaml:2:7 (the workload"
                        + " certificate to present)",
                "dr.yaml:10:33: tls mode ISTIO_MUTUAL needs spec.identity in the Proxy at proxy.yaml:2:7 (the workload"
                        + " certificate to present)"),
                errors(false, rule("""
                        trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
                        subsets:
                        - name: v1
                          labels: {version: v1}
                          trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
                        """)));
    }

    @Test
    void tlsMistakesAtTheirPlaces() {
        assertEquals(List.of(
                "dr.yaml:10:15: mode MUTUAL needs 'privateKey' (the client certificate presented to the server and its"
                        + " key)",
                "dr.yaml:11:28: 'clientCertificate': no such file certs/nope.pem",
                "dr.yaml:14:9: 'credentialName' is not supported: it names a Kubernetes Secret, which meshproxy"
                        + " cannot read; write 'clientCertificate', 'privateKey' and 'caCertificates'",
                "dr.yaml:15:9: 'insecureSkipVerify' is not supported: meshproxy always verifies the server's"
                        + " certificate",
                "dr.yaml:19:47: 'clientCertificate' cannot be set with mode ISTIO_MUTUAL, which uses the workload"
                        + " identity (spec.identity of the Proxy); use MUTUAL for certificates of your own",
                "dr.yaml:22:33: 'mode' must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL, was 'MTLS'"),
                errors(true, rule("""
                        trafficPolicy:
                          portLevelSettings:
                          - port: {number: 9080}
                            tls:
                              mode: MUTUAL
                              clientCertificate: certs/nope.pem
                          - port: {number: 9443}
                            tls:
                              credentialName: reviews-client
                              insecureSkipVerify: true
                        subsets:
                        - name: v1
                          labels: {version: v1}
                          trafficPolicy: {tls: {mode: ISTIO_MUTUAL, clientCertificate: certs/client.pem}}
                        - name: v2
                          labels: {version: v2}
                          trafficPolicy: {tls: {mode: MTLS}}
                        """)));
    }
}
