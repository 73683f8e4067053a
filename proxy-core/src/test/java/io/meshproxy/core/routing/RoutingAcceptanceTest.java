package io.meshproxy.core.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.testing.RoutingMesh;
import io.meshproxy.core.testing.Tally;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Routing as a client of a listener sees it: a real listener, the JDK HttpClient, real upstreams; where a
 * request landed is read from the upstream's {@code x-upstream} response header. See {@link RoutingMesh} for
 * the route table.
 */
class RoutingAcceptanceTest {
    private static RoutingMesh mesh;
    private static MeshProxy proxy;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        mesh = RoutingMesh.start();
        proxy = MeshProxy.builder().config(mesh.config()).eventLoopThreads(2).build().start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    private static HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + proxy.listenerPort(RoutingMesh.LISTENER) + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Tally tally(int n, String path, String... headers) throws IOException, InterruptedException {
        Tally t = new Tally();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = get(path, headers);
            assertEquals(200, r.statusCode(), () -> "request " + path + ": " + r.body());
            t.add(r.headers().firstValue("x-upstream").orElse(null));
        }
        return t;
    }

    @Test
    void weightedClustersSplit90To10() throws Exception {
        Tally t = tally(2000, "/split/x");
        assertEquals(2000, t.count("stable") + t.count("canary"), t::toString);
        assertEquals(90.0, t.percent("stable"), 3.0, t::toString);
        assertEquals(10.0, t.percent("canary"), 3.0, t::toString);
    }

    @Test
    void headerMatchSendsEveryMatchingRequestToItsCluster() throws Exception {
        Tally canary = tally(200, "/stable/x", "x-canary", "true");
        assertEquals(200, canary.count("canary"), canary::toString);

        Tally rest = tally(200, "/stable/x");
        assertEquals(200, rest.count("stable"), rest::toString);

        // Only the exact value matches.
        Tally other = tally(50, "/stable/x", "x-canary", "false");
        assertEquals(50, other.count("stable"), other::toString);
    }

    @Test
    void subsetsRouteOnlyToEndpointsWithTheirLabels() throws Exception {
        Tally v1 = tally(300, "/v1/items");
        assertEquals(300, v1.count("v1a") + v1.count("v1b"), v1::toString);
        assertTrue(v1.count("v1a") > 0 && v1.count("v1b") > 0, () -> "both v1 endpoints serve: " + v1);

        Tally v2 = tally(300, "/v2/items");
        assertEquals(300, v2.count("v2"), v2::toString);
    }

    @Test
    void redirectRouteAnswersWithStatusAndLocation() throws Exception {
        int before = mesh.upstreamRequests();
        HttpResponse<String> r = get("/redirect");
        assertEquals(302, r.statusCode());
        assertEquals(RoutingMesh.REDIRECT_LOCATION, r.headers().firstValue("location").orElse(null));
        assertEquals(before, mesh.upstreamRequests(), "a redirect is answered by the proxy");
    }

    @Test
    void directResponseRouteAnswersWithStatusAndBody() throws Exception {
        int before = mesh.upstreamRequests();
        HttpResponse<String> r = get("/direct");
        assertEquals(403, r.statusCode());
        assertEquals(RoutingMesh.DIRECT_BODY, r.body());
        assertEquals("text/plain", r.headers().firstValue("content-type").orElse(null));
        assertEquals(before, mesh.upstreamRequests(), "a direct response is answered by the proxy");
    }

    @Test
    void noRouteIs404AndEmptyClusterIs503() throws Exception {
        assertEquals(404, get("/no/such/route").statusCode());
        assertEquals(503, get("/empty").statusCode());
    }
}
