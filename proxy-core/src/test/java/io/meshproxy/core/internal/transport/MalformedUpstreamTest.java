package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RequestLogs;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** An upstream that answers something that is not HTTP gets the client a 502 with flag UPE, not a hang. */
@Timeout(60)
class MalformedUpstreamTest {
    @Test
    void garbageFromUpstreamIs502UPE() throws Exception {
        try (ServerSocket upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                while (!upstream.isClosed()) {
                    try (Socket s = upstream.accept()) {
                        InputStream in = s.getInputStream();
                        byte[] buf = new byte[4096];
                        in.read(buf); // the request head
                        OutputStream out = s.getOutputStream();
                        out.write("NOT-HTTP garbage\r\nwhat: ever\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        s.setSoTimeout(10_000);
                        while (in.read(buf) >= 0) {
                            // keep the connection until the proxy gives up on it
                        }
                    } catch (Exception e) {
                        // closed by the test
                    }
                }
            }, "garbage-upstream");
            server.setDaemon(true);
            server.start();
            RequestLogs logs = new RequestLogs();
            try (MeshProxy proxy = MeshProxy.builder().config(ProxyConfig.builder()
                    .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("bad")).build())
                    .cluster(ClusterConfig.builder().name("bad").endpoint("127.0.0.1", upstream.getLocalPort()).build())
                    .build()).requestLogListener(logs).build().start()) {
                HttpClient client = HttpClient.newHttpClient();
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/x"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(502, r.statusCode());
                assertEquals("upstream protocol error", r.body());
                RequestLog log = logs.await(l -> true);
                assertEquals("UPE", log.responseFlags());
                assertEquals(502, log.responseCode());
            }
        }
    }
}
