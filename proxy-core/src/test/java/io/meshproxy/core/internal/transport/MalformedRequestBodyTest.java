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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A chunked request body that breaks the framing is the client's fault: 400 with DPE, and the connection closes. */
class MalformedRequestBodyTest {
    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void badChunkSizeIs400DPE(UpstreamProtocol protocol) throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(protocol, up)).requestLogListener(logs)
                     .build().start();
             RawHttp raw = new RawHttp(proxy.listenerPort("in"))) {
            raw.send("POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\nZZ-not-a-size\r\nxx\r\n0\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertEquals(400, r.status());
            RequestLog log = logs.awaitPath("/sink");
            assertTrue(log.responseFlags().contains("DPE"), log.responseFlags());
            assertEquals(400, log.responseCode());
            assertTrue(raw.closedByPeer(), "a connection whose framing broke is not reused");
        }
    }
}
