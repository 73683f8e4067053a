package io.meshproxy.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The embedded demo mesh does what the README says: canary header to v2, the rest split 90/10. */
class DemoMeshTest {
    @Test
    void demoRoutesLikeItsVirtualService() throws Exception {
        MeshProxy mesh = DemoMesh.start(DemoMesh.Ports.EPHEMERAL);
        try {
            Map<String, Integer> canary = Main.demoTraffic(mesh.client(), 20, true);
            assertEquals(Map.of("reviews-v2", 20), canary);
            Map<String, Integer> split = Main.demoTraffic(mesh.client(), 1000, false);
            int v1 = split.getOrDefault("reviews-v1", 0);
            assertEquals(1000, v1 + split.getOrDefault("reviews-v2", 0), "every request served: " + split);
            assertTrue(v1 >= 860 && v1 <= 940, "about 90% to v1: " + split);

            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + mesh.listenerPort("outbound") + "/reviews/7"))
                    .header("x-canary", "true").build(), HttpResponse.BodyHandlers.ofString());
            // JDK HttpClient sends Host: 127.0.0.1:port, which the demo answers with its hint (no such service).
            assertEquals(404, r.statusCode());
            assertTrue(r.body().contains("meshproxy demo"), r.body());
            HttpResponse<String> ready = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + mesh.adminPort() + "/ready")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ready.statusCode());
        } finally {
            DemoMesh.stop(mesh);
        }
    }
}
