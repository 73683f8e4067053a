package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** HEAD gets the headers a GET would (content-length included) and no body, and the connection stays usable. */
@org.junit.jupiter.api.Timeout(60)
class HeadRequestTest {

    @ParameterizedTest
    @EnumSource(HttpClient.Version.class)
    void headThenGetOnOneConnection(HttpClient.Version version) throws Exception {
        for (UpstreamProtocol protocol : UpstreamProtocol.values()) {
            try (TestUpstream up = TestUpstream.start("a");
                 MeshProxy proxy = MeshProxy.builder().config(Configs.simple(protocol, up)).build().start()) {
                HttpClient client = HttpClient.newBuilder().version(version).build();
                URI uri = URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/bytes/5000");
                for (int i = 0; i < 3; i++) {
                    HttpResponse<byte[]> head = client.sendAsync(HttpRequest.newBuilder(uri)
                            .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                            HttpResponse.BodyHandlers.ofByteArray()).get(10, TimeUnit.SECONDS);
                    assertEquals(200, head.statusCode(), protocol + " HEAD");
                    assertEquals(0, head.body().length);
                    HttpResponse<byte[]> get = client.sendAsync(HttpRequest.newBuilder(uri).build(),
                            HttpResponse.BodyHandlers.ofByteArray()).get(10, TimeUnit.SECONDS);
                    assertEquals(200, get.statusCode(), protocol + " GET after HEAD");
                    assertEquals(5000, get.body().length);
                }
            }
        }
    }
}
