package io.meshproxy.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.testing.H2cClient;
import io.meshproxy.core.testing.RawHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The embedded demo mesh does what the README says: it is loaded from the embedded Istio YAML; on the outbound
 * listener {@code canary: true} goes to v2 and the rest is split 90/10, by every name Kubernetes DNS would
 * give the host; unknown hosts get 404; the inbound listener forwards to v1.
 */
class DemoMeshTest {
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
    void inboundListenerForwardsEverythingToV1() throws Exception {
        int port = demo.mesh().listenerPort("inbound");
        for (String host : new String[] {"reviews", "anything.example", "127.0.0.1:" + port}) {
            RawHttp.Response r = get(port, host, "canary: true\r\n");
            assertEquals(200, r.status(), host);
            assertEquals("reviews-v1", r.headers().get("x-served-by"), host);
        }
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
                "REVIEWS_V2_PORT"}) {
            assertTrue(template.contains("${" + name + "}"), name);
        }
    }

    @Test
    void delayIsReadFromTheQueryAndBounded() {
        assertEquals(0, DemoMesh.delayMillis("/reviews/1"));
        assertEquals(250, DemoMesh.delayMillis("/reviews/1?delay_ms=250"));
        assertEquals(250, DemoMesh.delayMillis("/reviews/1?a=b&delay_ms=250&c=d"));
        assertEquals(0, DemoMesh.delayMillis("/reviews/1?xdelay_ms=250"));
        assertEquals(DemoMesh.MAX_DELAY_MS, DemoMesh.delayMillis("/reviews/1?delay_ms=999999999"));
    }

    private static RawHttp.Response get(int port, String host, String extraHeaders) throws Exception {
        try (RawHttp http = new RawHttp(port)) {
            return http.send("GET /reviews/1 HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeaders
                    + "Connection: close\r\n\r\n").read();
        }
    }
}
