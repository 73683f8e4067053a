package io.meshproxy.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void getThroughListener() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, up)).build().start()) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            int port = proxy.listenerPort("in");
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("a", r.body());
            HttpResponse<String> e = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString("ping")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("ping", e.body());
            HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
            HttpResponse<String> r2 = h2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString("pong")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("pong", r2.body());
            HttpResponse<String> r3 = h2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/headers")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, r3.version());
            System.out.println(r3.body());
        }
    }
}
