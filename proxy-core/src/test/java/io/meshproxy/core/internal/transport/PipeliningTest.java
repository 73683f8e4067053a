package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * HTTP/1.1 pipelining: requests written back to back before any answer are answered one by one, in order,
 * each with its own body (the slow first one does not let a later one overtake it).
 */
class PipeliningTest {
    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, up)).build().start();
             RawHttp raw = new RawHttp(proxy.listenerPort("in"))) {
            raw.send("GET /delay/300 HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                    + "GET /status/201 HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
            RawHttp.Response first = raw.read();
            assertEquals(200, first.status());
            assertEquals("delayed 300", new String(first.body(), StandardCharsets.UTF_8));
            RawHttp.Response second = raw.read();
            assertEquals("hello", new String(second.body(), StandardCharsets.UTF_8));
            RawHttp.Response third = raw.read();
            assertEquals(201, third.status());
            RawHttp.Response fourth = raw.read();
            assertEquals("abc", new String(fourth.body(), StandardCharsets.UTF_8));
            assertEquals(1, up.connectionsAccepted(), "one upstream connection, reused in turn");
        }
    }
}
