package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.RawHttp;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The keep-alive race, provoked: an upstream that answers with a keep-alive response and then closes the
 * connection at once, so every reuse of a pooled connection races the close. No request may fail.
 */
class KeepAliveRaceTest {

    /** Answers one request per connection (keep-alive in name only), then closes; counts what it answered. */
    static final class ClosingUpstream implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger answered = new AtomicInteger();
        final Thread thread;

        ClosingUpstream() throws Exception {
            server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
            thread = new Thread(this::serve, "closing-upstream");
            thread.setDaemon(true);
            thread.start();
        }

        private void serve() {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                            StandardCharsets.ISO_8859_1));
                    int length = 0;
                    String line;
                    while ((line = in.readLine()) != null && !line.isEmpty()) {
                        if (line.toLowerCase().startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring(15).trim());
                        }
                    }
                    if (line == null) {
                        continue;
                    }
                    for (int i = 0; i < length; i++) {
                        in.read();
                    }
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    answered.incrementAndGet();
                    // closing here, without "Connection: close", is the upstream's keep-alive timeout firing
                } catch (Exception e) {
                    // next connection
                }
            }
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.join(5000);
        }
    }

    @Test
    void noRequestFailsWhenTheUpstreamClosesIdleConnectionsAtTheMomentOfReuse() throws Exception {
        try (ClosingUpstream up = new ClosingUpstream();
             MeshProxy proxy = MeshProxy.builder()
                     .config(RetryTest.config(RetryPolicy.ISTIO_DEFAULT,
                             RetryTest.endpoints(UpstreamProtocol.HTTP1, up.port())))
                     .eventLoopThreads(1).build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            for (int i = 0; i < 300; i++) {
                RawHttp.Response r = i % 2 == 0
                        ? c.send(RetryTest.get("/x")).read()
                        : c.send("POST /x HTTP/1.1\r\nHost: b\r\ncontent-length: 5\r\n\r\nhello").read();
                assertEquals(200, r.status(), "request " + i);
            }
            assertEquals(300, up.answered.get(), "each request answered exactly once");
            assertTrue(proxy.clusters().get("backend").stats().upstreamRqRetry.sum() == 0,
                    "resending on a stale connection is not a retry");
        }
    }

    @Test
    void withoutARetryPolicyBodylessRequestsAreStillResent() throws Exception {
        try (ClosingUpstream up = new ClosingUpstream();
             MeshProxy proxy = MeshProxy.builder()
                     .config(RetryTest.config(null, RetryTest.endpoints(UpstreamProtocol.HTTP1, up.port())))
                     .eventLoopThreads(1).build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            for (int i = 0; i < 200; i++) {
                assertEquals(200, c.send(RetryTest.get("/x")).read().status(), "request " + i);
            }
            assertEquals(200, up.answered.get());
        }
    }
}
