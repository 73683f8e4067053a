package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every local reply of the listener: the client gets the status it expects (never a hang: all reads are
 * bounded), and the request log records Envoy's response flag and details.
 */
class LocalReplyTest {
    private static final HttpClient H1 = HttpClient.newBuilder().version(Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private final RequestLogs logs = new RequestLogs();

    private MeshProxy start(ProxyConfig config) {
        return MeshProxy.builder().config(config).requestLogListener(logs).eventLoopThreads(1).build().start();
    }

    private static ProxyConfig config(UnaryOperator<ListenerConfig.Builder> listener, ClusterConfig cluster,
            RouteConfiguration routes) {
        return ProxyConfig.builder()
                .listener(listener.apply(ListenerConfig.builder().name("in").port(0).routes(routes)).build())
                .cluster(cluster)
                .admin(new AdminConfig("127.0.0.1", 0))
                .build();
    }

    private static RouteConfiguration routesWithTimeout(Duration timeout) {
        return RouteConfiguration.builder().name("routes").virtualHost(VirtualHost.builder().name("all").domain("*")
                .route(Route.builder().name("default")
                        .action(RouteAction.builder().cluster("backend").timeout(timeout).build()).build())
                .build()).build();
    }

    private static HttpResponse<String> get(MeshProxy proxy, String path) throws Exception {
        return H1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void noMatchingVirtualHostIs404NR() throws Exception {
        RouteConfiguration routes = RouteConfiguration.builder().name("routes").virtualHost(VirtualHost.builder()
                .name("other").domain("other.example")
                .route(Route.builder().name("default").action(RouteAction.to("backend")).build()).build()).build();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = start(config(l -> l, Configs.cluster("backend", UpstreamProtocol.HTTP1, up), routes))) {
            HttpResponse<String> r = get(proxy, "/nr");
            assertEquals(404, r.statusCode());
            RequestLog log = logs.awaitPath("/nr");
            assertEquals(404, log.responseCode());
            assertEquals("NR", log.responseFlags());
            assertEquals("route_not_found", log.responseCodeDetails());
            assertEquals(0, up.requestsReceived(), "nothing reaches the upstream");
        }
    }

    @Test
    void clusterWithoutEndpointsIs503UH() throws Exception {
        ClusterConfig empty = ClusterConfig.builder().name("backend").build();
        try (MeshProxy proxy = start(config(l -> l, empty, Configs.allTo("backend")))) {
            HttpResponse<String> r = get(proxy, "/uh");
            assertEquals(503, r.statusCode());
            RequestLog log = logs.awaitPath("/uh");
            assertEquals(503, log.responseCode());
            assertEquals("UH", log.responseFlags());
            assertFalse(log.responseCodeDetails().isEmpty());
        }
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void endpointOnClosedPortIs503UF(UpstreamProtocol protocol) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ClusterConfig cluster = ClusterConfig.builder().name("backend").protocol(protocol)
                .connectTimeout(Duration.ofSeconds(2)).endpoint("127.0.0.1", closedPort).build();
        try (MeshProxy proxy = start(config(l -> l, cluster, Configs.allTo("backend")))) {
            HttpResponse<String> r = get(proxy, "/uf");
            assertEquals(503, r.statusCode());
            RequestLog log = logs.awaitPath("/uf");
            assertEquals(503, log.responseCode());
            assertEquals("UF", log.responseFlags());
            assertEquals("127.0.0.1:" + closedPort, log.upstreamHost());
        }
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void upstreamResetBeforeResponseIs503UCOverHttp1AndUROverHttp2(UpstreamProtocol protocol) throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = start(config(l -> l, Configs.cluster("backend", protocol, up), Configs.allTo("backend")))) {
            HttpResponse<String> r = get(proxy, "/reset");
            assertEquals(503, r.statusCode());
            RequestLog log = logs.awaitPath("/reset");
            assertEquals(503, log.responseCode());
            assertEquals(protocol == UpstreamProtocol.HTTP1 ? "UC" : "UR", log.responseFlags());
            // the listener keeps serving
            assertEquals(200, get(proxy, "/after").statusCode());
        }
    }

    @Test
    void routeTimeoutIs504UT() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = start(config(l -> l, Configs.cluster("backend", UpstreamProtocol.HTTP1, up),
                     routesWithTimeout(Duration.ofMillis(200))))) {
            HttpResponse<String> r = get(proxy, "/delay/5000");
            assertEquals(504, r.statusCode());
            RequestLog log = logs.awaitPath("/delay/5000");
            assertEquals(504, log.responseCode());
            assertEquals("UT", log.responseFlags());
        }
    }

    @Test
    void garbageRequestLineIs400AndConnectionCloses() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = start(config(l -> l, Configs.cluster("backend", UpstreamProtocol.HTTP1, up),
                     Configs.allTo("backend")));
             RawHttp raw = new RawHttp(proxy.listenerPort("in"))) {
            raw.send("this is not http\r\nHost: x\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertEquals(400, r.status());
            assertEquals("close", r.headers().get("connection"));
            assertTrue(raw.closedByPeer());
            RequestLog log = logs.await(l -> l.responseCode() == 400);
            assertEquals("DPE", log.responseFlags());
            assertEquals("http1.codec_error", log.responseCodeDetails());
            assertEquals(0, up.requestsReceived());
        }
    }

    @Test
    void headersOverLimitAre431() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = start(config(l -> l.maxRequestHeadersBytes(2048),
                     Configs.cluster("backend", UpstreamProtocol.HTTP1, up), Configs.allTo("backend")))) {
            HttpResponse<String> r = H1.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/big"))
                    .header("x-big", "v".repeat(4096)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(431, r.statusCode());
            RequestLog log = logs.await(l -> l.responseCode() == 431);
            assertEquals("DPE", log.responseFlags());
            assertEquals(0, up.requestsReceived());
        }
    }

    @Test
    void declaredBodyOverLimitIs413() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = start(config(l -> l.maxRequestBodyBytes(1024),
                     Configs.cluster("backend", UpstreamProtocol.HTTP1, up), Configs.allTo("backend")));
             RawHttp raw = new RawHttp(proxy.listenerPort("in"))) {
            raw.send("POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertEquals(413, r.status());
            RequestLog log = logs.awaitPath("/sink");
            assertEquals(413, log.responseCode());
            assertEquals("request_payload_too_large", log.responseCodeDetails());
            assertEquals(0, up.requestsReceived(), "rejected before any upstream work");
        }
    }

    @Test
    void chunkedBodyOverLimitIs413() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = start(config(l -> l.maxRequestBodyBytes(1024),
                     Configs.cluster("backend", UpstreamProtocol.HTTP1, up), Configs.allTo("backend")));
             RawHttp raw = new RawHttp(proxy.listenerPort("in"))) {
            StringBuilder req = new StringBuilder("POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < 4; i++) {
                req.append("400\r\n").append("c".repeat(1024)).append("\r\n");
            }
            req.append("0\r\n\r\n");
            raw.send(req.toString());
            RawHttp.Response r = raw.read();
            assertEquals(413, r.status());
            RequestLog log = logs.awaitPath("/sink");
            assertEquals(413, log.responseCode());
            assertEquals("request_payload_too_large", log.responseCodeDetails());
        }
    }

    @Test
    void stalledRequestHeadersAre408() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = start(config(l -> l.requestHeadersTimeout(Duration.ofMillis(300)),
                     Configs.cluster("backend", UpstreamProtocol.HTTP1, up), Configs.allTo("backend")));
             RawHttp raw = new RawHttp(proxy.listenerPort("in"))) {
            raw.send("GET /slow HT");
            RawHttp.Response r = raw.read();
            assertEquals(408, r.status());
            assertTrue(raw.closedByPeer());
            RequestLog log = logs.await(l -> l.responseCode() == 408);
            assertEquals("request_header_timeout", log.responseCodeDetails());
            assertEquals(0, up.requestsReceived());
        }
    }

    @Test
    void http2BodyOverLimitIs413() throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = start(config(l -> l.maxRequestBodyBytes(1024),
                     Configs.cluster("backend", UpstreamProtocol.HTTP1, up), Configs.allTo("backend")))) {
            HttpClient h2 = HttpClient.newBuilder().version(Version.HTTP_2).build();
            URI base = URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/");
            assertEquals(Version.HTTP_2, h2.send(HttpRequest.newBuilder(base.resolve("/warm")).build(),
                    HttpResponse.BodyHandlers.ofString()).version());
            HttpResponse<String> r = h2.send(HttpRequest.newBuilder(base.resolve("/sink"))
                    .timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[4096])).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(413, r.statusCode());
            assertEquals(Version.HTTP_2, r.version());
            RequestLog log = logs.awaitPath("/sink");
            assertEquals(413, log.responseCode());
            assertEquals("request_payload_too_large", log.responseCodeDetails());
            // the connection still serves other streams
            assertEquals(200, h2.send(HttpRequest.newBuilder(base.resolve("/again")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }
}
