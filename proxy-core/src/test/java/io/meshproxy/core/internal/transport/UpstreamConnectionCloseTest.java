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
import org.junit.jupiter.api.Test;

/**
 * An upstream that answers "Connection: close" is never handed another request on that connection: every
 * request with a body (which could not be replayed if it raced the close) succeeds on a fresh connection.
 */
class UpstreamConnectionCloseTest {
    @Test
    void connectionCloseFromUpstreamIsHonoured() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, up))
                     .eventLoopThreads(1).build().start()) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/close");
            for (int i = 0; i < 200; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri)
                        .POST(HttpRequest.BodyPublishers.ofString("payload " + i)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), "request " + i + ": " + r.body());
                assertEquals("closing", r.body());
            }
            assertEquals(200, up.connectionsAccepted(), "one upstream connection per request, none reused");
        }
    }
}
