package io.meshproxy.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.testing.H2cClient;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.tls.WorkloadIdentity;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The embedded demo mesh does what the README says: it is loaded from the embedded Istio YAML; on the outbound
 * listener {@code canary: true} goes to v2 and the rest is split 90/10, by every name Kubernetes DNS would
 * give the host; unknown hosts get 404; v1 is reached over mTLS (ISTIO_MUTUAL) through the inbound listener,
 * which is STRICT: v1 sees the caller's SPIFFE identity, a plaintext client of the inbound listener gets nothing,
 * a TLS client without a certificate of the mesh is refused in the handshake.
 */
class DemoMeshTest {
    private static final String PRINCIPAL = "spiffe://cluster.local/ns/default/sa/bookinfo-reviews";
    private static final String PEER_JSON = "\"peer\":\"" + PRINCIPAL + "\"";
    private static DemoMesh demo;

    @BeforeAll
    static void start() {
        demo = DemoMesh.start(DemoMesh.Ports.EPHEMERAL);
    }

    @AfterAll
    static void stop() {
        if (demo != null) {
            demo.close();
        }
    }

    @Test
    void canaryHeaderGoesToV2AndTheRestIsSplit90To10() throws Exception {
        Map<String, Integer> canary = DemoMesh.traffic(demo.mesh().client("outbound"), 20, true);
        assertEquals(Map.of("reviews-v2", 20), canary);
        Map<String, Integer> split = DemoMesh.traffic(demo.mesh().client("outbound"), 1000, false);
        int v1 = split.getOrDefault("reviews-v1", 0);
        assertEquals(1000, v1 + split.getOrDefault("reviews-v2", 0), "every request served: " + split);
        // Binomial(1000, 0.9): sd 9.5, so 860..940 is beyond 4 sd either side.
        assertTrue(v1 >= 860 && v1 <= 940, "about 90% to v1: " + split);
    }

    @Test
    void outboundListenerRoutesByHostOverRealSockets() throws Exception {
        int port = demo.mesh().listenerPort("outbound");
        for (String host : new String[] {"reviews", "reviews.default", "reviews.default.svc",
                "reviews.default.svc.cluster.local"}) {
            for (String authority : new String[] {host, host + ":9080"}) {
                RawHttp.Response canary = get(port, authority, "canary: true\r\n");
                assertEquals(200, canary.status(), authority);
                assertEquals("reviews-v2", canary.headers().get("x-served-by"), authority);
                assertTrue(canary.text().contains("\"version\":\"v2\""), canary.text());
                assertEquals(200, get(port, authority, "").status(), authority);
            }
        }
        assertEquals(404, get(port, "ratings", "").status(), "a host no ServiceEntry declares");
        assertEquals(404, get(port, "127.0.0.1:" + port, "").status(), "an address, not a service name");
    }

    @Test
    void outboundListenerSpeaksH2c() throws Exception {
        try (H2cClient h2 = new H2cClient(demo.mesh().listenerPort("outbound"))) {
            H2cClient.Response r = h2.get("reviews", "/reviews/3").get(10, TimeUnit.SECONDS);
            assertEquals(200, r.status());
            assertTrue(r.body().contains("\"service\":\"reviews\""), r.body());
        }
    }

    @Test
    void v1SeesTheCallersSpiffeIdentityThroughMutualTlsAndV2SeesNone() throws Exception {
        int port = demo.mesh().listenerPort("outbound");
        Map<String, Integer> served = new TreeMap<>();
        for (int i = 0; i < 40; i++) {
            // x-forwarded-client-cert from a client is dropped by the outbound listener: nobody can claim an identity.
            RawHttp.Response r = get(port, "reviews", "x-forwarded-client-cert: URI=spiffe://evil/ns/x/sa/y\r\n");
            assertEquals(200, r.status(), r.text());
            String by = r.headers().get("x-served-by");
            served.merge(by, 1, Integer::sum);
            if (by.equals("reviews-v1")) {
                assertTrue(r.text().contains("\"version\":\"v1\"") && r.text().contains(PEER_JSON), r.text());
            } else {
                assertEquals("reviews-v2", by);
                assertTrue(r.text().contains("\"peer\":null"), "v2 is reached in plaintext: " + r.text());
            }
        }
        assertTrue(served.getOrDefault("reviews-v1", 0) > 0, "v1 served some of 40 requests: " + served);
        assertEquals(PRINCIPAL, demo.lastPeer("v1"));
        assertEquals(null, demo.lastPeer("v2"));
        // The v1 answers crossed the inbound listener: it reports the requests it took.
        String clusters = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + demo.mesh().adminPort() + "/clusters")).build(), HttpResponse.BodyHandlers.ofString()).body();
        int inbound = demo.mesh().listenerPort("inbound");
        assertTrue(clusters.lines().anyMatch(l -> l.startsWith("outbound|9080|v1|reviews.default.svc.cluster.local::127.0.0.1:"
                + inbound + "::")), clusters);
    }

    @Test
    void plaintextToTheStrictInboundListenerIsRefused() throws Exception {
        assertEquals(DownstreamTlsMode.STRICT, demo.mesh().config().listeners().stream()
                .filter(l -> l.name().equals("inbound")).findFirst().orElseThrow().tlsMode());
        try (RawHttp plain = new RawHttp(demo.mesh().listenerPort("inbound"))) {
            plain.send("GET /reviews/1 HTTP/1.1\r\nHost: reviews\r\n\r\n");
            assertTrue(plain.closedByPeer(), "STRICT: a plaintext client gets no answer");
        }
    }

    @Test
    void aClientWithTheWorkloadCertificateReachesV1DirectlyAndOneWithoutIsRefused() throws Exception {
        Path certs = demo.certificateDirectory();
        WorkloadIdentity identity = WorkloadIdentity.load(certs.resolve("cert-chain.pem"), certs.resolve("key.pem"),
                certs.resolve("root-cert.pem"), DemoMesh.TRUST_DOMAIN);
        int port = demo.mesh().listenerPort("inbound");
        try (SSLSocket tls = (SSLSocket) sslContext(identity, true).getSocketFactory().createSocket("127.0.0.1", port)) {
            tls.setSoTimeout(10_000);
            tls.getOutputStream().write("GET /reviews/9 HTTP/1.1\r\nHost: anything.example\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(tls.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            assertTrue(response.contains("\"version\":\"v1\"") && response.contains(PEER_JSON), response);
        }
        try (SSLSocket tls = (SSLSocket) sslContext(identity, false).getSocketFactory().createSocket("127.0.0.1", port)) {
            tls.setSoTimeout(10_000);
            // TLS 1.3: the server checks the client's (missing) certificate after the client's handshake is done, so
            // the refusal arrives as an alert on the first read, or as a failed handshake (TLS 1.2).
            assertThrows(IOException.class, () -> {
                tls.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                tls.getOutputStream().flush();
                if (tls.getInputStream().read() < 0) {
                    throw new IOException("closed without an answer");
                }
            });
        }
    }

    @Test
    void closingTheDemoDeletesItsCertificates() throws Exception {
        Path certs;
        try (DemoMesh other = DemoMesh.start(DemoMesh.Ports.EPHEMERAL)) {
            certs = other.certificateDirectory();
            assertTrue(Files.isRegularFile(certs.resolve("key.pem")));
            if (certs.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                        Files.getPosixFilePermissions(certs.resolve("key.pem")), "the private key is the owner's only");
            }
            Map<String, Integer> canary = DemoMesh.traffic(other.mesh().client("outbound"), 3, true);
            assertEquals(Map.of("reviews-v2", 3), canary);
        }
        assertFalse(Files.exists(certs), certs + " deleted");
        assertFalse(Files.exists(certs.getParent()), certs.getParent() + " deleted");
    }

    /** A JDK TLS client trusting the demo's root; presenting the workload certificate when {@code withCertificate}. */
    private static SSLContext sslContext(WorkloadIdentity identity, boolean withCertificate) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", identity.trustBundle().get(0));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (withCertificate) {
            char[] password = "demo".toCharArray();
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("workload", identity.privateKey(), password,
                    identity.certificateChain().toArray(new Certificate[0]));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    @Test
    void adminAnswersWithTheEmbeddedConfigurationsVersion() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + demo.mesh().adminPort();
        assertEquals(200, client.send(HttpRequest.newBuilder(URI.create(base + "/ready")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        String version = demo.mesh().versionInfo();
        assertTrue(version.matches("[0-9a-f]{12}"), "the loader's digest, not the initial \"0\": " + version);
        String dump = client.send(HttpRequest.newBuilder(URI.create(base + "/config_dump")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(dump.contains(version), dump);
    }

    @Test
    void placeholdersAreFilledOrRefused() {
        assertEquals("port: 7, again 7", DemoMesh.fill("port: ${P}, again ${P}", Map.of("P", 7)));
        assertThrows(IllegalStateException.class, () -> DemoMesh.fill("port: ${Q}", Map.of("P", 7)));
        String template = DemoMesh.template();
        for (String name : new String[] {"ADMIN_PORT", "OUTBOUND_PORT", "INBOUND_PORT", "REVIEWS_V1_PORT",
                "REVIEWS_V2_PORT", "CERT_DIR"}) {
            assertTrue(template.contains("${" + name + "}"), name);
        }
    }

    @Test
    void delayIsReadFromTheQueryAndBounded() {
        assertEquals(0, DemoServices.delayMillis("/reviews/1"));
        assertEquals(250, DemoServices.delayMillis("/reviews/1?delay_ms=250"));
        assertEquals(250, DemoServices.delayMillis("/reviews/1?a=b&delay_ms=250&c=d"));
        assertEquals(0, DemoServices.delayMillis("/reviews/1?xdelay_ms=250"));
        assertEquals(DemoMesh.MAX_DELAY_MS, DemoServices.delayMillis("/reviews/1?delay_ms=999999999"));
    }

    @Test
    void thePeerIsTheUriOfTheNearestXfccElement() {
        assertEquals(PRINCIPAL, DemoServices.xfccUri("URI=" + PRINCIPAL));
        assertEquals(PRINCIPAL, DemoServices.xfccUri("By=spiffe://a/ns/b/sa/c;Hash=ab12;URI=" + PRINCIPAL));
        assertEquals(PRINCIPAL, DemoServices.xfccUri("URI=spiffe://far/ns/x/sa/y," + "URI=" + PRINCIPAL));
        assertEquals(null, DemoServices.xfccUri("Hash=ab12"));
        assertEquals(null, DemoServices.xfccUri("URI="));
        assertEquals(null, DemoServices.xfccUri(null));
    }

    private static RawHttp.Response get(int port, String host, String extraHeaders) throws Exception {
        try (RawHttp http = new RawHttp(port)) {
            return http.send("GET /reviews/1 HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeaders
                    + "Connection: close\r\n\r\n").read();
        }
    }
}
