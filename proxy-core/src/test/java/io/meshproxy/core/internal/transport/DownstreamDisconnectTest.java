package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A client that goes away in the middle of a large response: the exchange is logged as DC, no buffer leaks
 * (the leak-detection extension fails the class otherwise), and the upstream side is left clean: the next
 * request through the same proxy gets a correct response.
 */
class DownstreamDisconnectTest {

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void clientClosingMidResponseIsLoggedDcAndTheNextRequestSucceeds(UpstreamProtocol protocol) throws Exception {
        RequestLogs logs = new RequestLogs();
        long size = 100L << 20;
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(protocol, up)).requestLogListener(logs)
                     .eventLoopThreads(1).build().start()) {
            int port = proxy.listenerPort("in");
            try (RawHttp raw = new RawHttp(port)) {
                raw.send("GET /bytes/" + size + " HTTP/1.1\r\nHost: svc\r\n\r\n");
                InputStream in = raw.socket().getInputStream();
                byte[] buf = new byte[65536];
                long read = 0;
                while (read < 1 << 20) {
                    int n = in.read(buf);
                    assertTrue(n > 0, "response data before the disconnect");
                    read += n;
                }
                raw.socket().setSoLinger(true, 0); // abortive close, as a crashed client
            }
            RequestLog log = logs.awaitPath("/bytes/");
            assertTrue(log.responseFlags().contains("DC"), "flags: " + log.responseFlags());
            assertEquals(200, log.responseCode(), "the head had been sent");
            assertTrue(log.bytesSent() < size, "bytes sent: " + log.bytesSent());

            HttpClient client = HttpClient.newBuilder().version(Version.HTTP_1_1).build();
            for (String path : new String[] {"/after", "/bytes/100000"}) {
                HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, r.statusCode(), path);
                if (path.equals("/after")) {
                    assertEquals("a", new String(r.body()), "a clean response, not the rest of the abandoned one");
                } else {
                    assertEquals(100000, r.body().length);
                    for (int i = 0; i < r.body().length; i++) {
                        if (r.body()[i] != TestUpstream.pattern(i)) {
                            throw new AssertionError("byte " + i + " differs");
                        }
                    }
                }
            }
            if (protocol == UpstreamProtocol.HTTP1) {
                assertEquals(2, up.connectionsAccepted(),
                        "the HTTP/1.1 upstream connection with half a response in it is closed, not reused");
            } else {
                assertEquals(1, up.connectionsAccepted(), "the HTTP/2 stream is reset; its connection is reused");
            }
        }
    }
}
