package io.meshproxy.core.internal.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.H2cClient;
import io.meshproxy.core.testing.TestUpstream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient.Version;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Graceful drain, started by the API or by the admin server's {@code POST /drain_listeners}: requests in
 * flight complete normally, and the listener accepts no new connections. HTTP/1.1 uses the JDK client; HTTP/2
 * uses a Netty client, because the JDK 17 client aborts all streams on GOAWAY (see {@link H2cClient}).
 */
class DrainTest {

    private static MeshProxy start(TestUpstream up) {
        return MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, up)).eventLoopThreads(1).build().start();
    }

    private static void awaitRequests(TestUpstream up, int n) throws InterruptedException {
        await().atMost(Duration.ofSeconds(5)).until(() -> up.requestsReceived() >= n);
        assertEquals(n, up.requestsReceived(), "all requests reached the upstream before the drain");
    }

    private static void drain(MeshProxy proxy, boolean viaAdmin) throws Exception {
        if (viaAdmin) {
            HttpResponse<String> r = HttpClient.newBuilder().version(Version.HTTP_1_1).build().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + "/drain_listeners"))
                            .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
        } else {
            proxy.drain();
        }
        assertEquals(MeshProxy.State.DRAINING, proxy.state());
    }

    private static void assertRefused(int port) {
        assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(2000);
            }
        });
    }

    @ParameterizedTest(name = "via admin: {0}")
    @ValueSource(booleans = {false, true})
    void http1RequestsInFlightCompleteAndNewConnectionsAreRefused(boolean viaAdmin) throws Exception {
        try (TestUpstream up = TestUpstream.start("a"); MeshProxy proxy = start(up)) {
            int port = proxy.listenerPort("in");
            HttpClient client = HttpClient.newBuilder().version(Version.HTTP_1_1).build();
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                inFlight.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/delay/1500"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            awaitRequests(up, 5);
            drain(proxy, viaAdmin);
            for (CompletableFuture<HttpResponse<String>> f : inFlight) {
                HttpResponse<String> r = f.get(15, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode());
                assertEquals("delayed 1500", r.body());
                assertEquals("close", r.headers().firstValue("connection").orElse(null),
                        "a draining HTTP/1.1 connection announces its close");
            }
            assertRefused(port);
        }
    }

    @ParameterizedTest(name = "via admin: {0}")
    @ValueSource(booleans = {false, true})
    void http2StreamsInFlightCompleteAfterGoAwayAndNewConnectionsAreRefused(boolean viaAdmin) throws Exception {
        try (TestUpstream up = TestUpstream.start("a"); MeshProxy proxy = start(up);
             H2cClient client = new H2cClient(proxy.listenerPort("in"))) {
            int port = proxy.listenerPort("in");
            List<CompletableFuture<H2cClient.Response>> inFlight = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                inFlight.add(client.get("127.0.0.1:" + port, "/delay/1500"));
            }
            awaitRequests(up, 5);
            drain(proxy, viaAdmin);
            int lastStreamId = client.goAway().get(5, TimeUnit.SECONDS);
            assertTrue(lastStreamId >= 9, "GOAWAY keeps the five open streams (1..9): " + lastStreamId);
            for (CompletableFuture<H2cClient.Response> f : inFlight) {
                H2cClient.Response r = f.get(15, TimeUnit.SECONDS);
                assertEquals(200, r.status());
                assertEquals("delayed 1500", r.body());
            }
            assertRefused(port);
        }
    }
}
