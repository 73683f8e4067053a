package io.meshproxy.core.internal.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient.Version;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The admin API under Envoy's paths and formats, on a real socket. */
class AdminServerTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(Version.HTTP_1_1).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static HttpResponse<String> admin(MeshProxy proxy, String method, String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path))
                .timeout(Duration.ofSeconds(5)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(MeshProxy proxy, String path) throws Exception {
        return admin(proxy, "GET", path);
    }

    private static List<String> lines(String body) {
        return body.lines().collect(Collectors.toList());
    }

    @Test
    void readyIsLiveUntilDrainedAndHealthzStaysUp() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, up)).build().start()) {
            HttpResponse<String> ready = get(proxy, "/ready");
            assertEquals(200, ready.statusCode());
            assertEquals("LIVE", ready.body().trim());
            assertEquals(200, get(proxy, "/healthz").statusCode());

            assertEquals(405, get(proxy, "/drain_listeners").statusCode(), "drain needs POST");
            assertEquals(200, get(proxy, "/ready").statusCode(), "a GET does not drain");

            assertEquals(200, admin(proxy, "POST", "/drain_listeners").statusCode());
            HttpResponse<String> draining = get(proxy, "/ready");
            assertEquals(503, draining.statusCode());
            assertEquals("DRAINING", draining.body().trim());
            assertEquals(200, get(proxy, "/healthz").statusCode(), "liveness is not readiness");
        }
    }

    @Test
    void serverInfoIsJsonWithStateAndTransport() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, up)).build().start()) {
            HttpResponse<String> r = get(proxy, "/server_info");
            assertEquals(200, r.statusCode());
            assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
            JsonNode info = JSON.readTree(r.body());
            assertEquals("LIVE", info.path("state").asText());
            assertFalse(info.path("transport").asText().isEmpty(), r.body());
            assertEquals(AdminServer.VERSION, info.path("version").asText());
            assertTrue(info.path("listeners").has("in"), r.body());
        }
    }

    @Test
    void configDumpNamesListenerAndCluster() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP2, up)).build().start()) {
            HttpResponse<String> r = get(proxy, "/config_dump");
            assertEquals(200, r.statusCode());
            JsonNode dump = JSON.readTree(r.body());
            List<String> names = dump.findValuesAsText("name");
            assertTrue(names.contains("in"), "listener named: " + r.body());
            assertTrue(names.contains("backend"), "cluster named: " + r.body());
            assertTrue(r.body().contains(Integer.toString(up.port())), "endpoint port: " + r.body());
        }
    }

    @Test
    void clustersShowsActiveRequestsAndConnectionsInEnvoyTextFormat() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, up))
                     .eventLoopThreads(1).build().start()) {
            String prefix = "backend::127.0.0.1:" + up.port() + "::";
            List<String> idle = lines(get(proxy, "/clusters").body());
            assertTrue(idle.contains(prefix + "rq_active::0"), idle.toString());
            assertTrue(idle.contains(prefix + "cx_active::0"), idle.toString());
            assertTrue(idle.contains(prefix + "health_flags::healthy"), idle.toString());
            assertTrue(idle.contains(prefix + "weight::1"), idle.toString());

            CompletableFuture<HttpResponse<String>> slow = CLIENT.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/delay/1000")).build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(5)).until(() -> up.requestsReceived() >= 1);
            List<String> busy = lines(get(proxy, "/clusters").body());
            assertTrue(busy.contains(prefix + "rq_active::1"), busy.toString());
            assertTrue(busy.contains(prefix + "cx_active::1"), busy.toString());

            assertEquals(200, slow.get(10, TimeUnit.SECONDS).statusCode());
            List<String> after = await().atMost(Duration.ofSeconds(5))
                    .until(() -> lines(get(proxy, "/clusters").body()), l -> l.contains(prefix + "rq_active::0"));
            assertTrue(after.contains(prefix + "rq_active::0"), after.toString());
            assertTrue(after.contains(prefix + "cx_active::1"), "the keep-alive connection stays pooled: " + after);

            JsonNode json = JSON.readTree(get(proxy, "/clusters?format=json").body());
            JsonNode host = json.path("cluster_statuses").path(0).path("host_statuses").path(0);
            assertEquals("127.0.0.1:" + up.port(), host.path("address").asText());
        }
    }

    @Test
    void unknownPathIs404() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, up)).build().start()) {
            assertEquals(404, get(proxy, "/no_such_endpoint").statusCode());
            assertEquals(200, get(proxy, "/").statusCode());
        }
    }
}
