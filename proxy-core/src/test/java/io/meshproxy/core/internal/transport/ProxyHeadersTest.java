package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.HeaderMutation;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The request headers an upstream sees behind the listener, as behind an Envoy sidecar: request id,
 * forwarded headers, hop-by-hop fields gone, authority translated between HTTP/1.1 and HTTP/2, and the
 * route's header mutations and path rewrites applied. Read back through the upstream's {@code /headers}.
 */
class ProxyHeadersTest {
    private static final Pattern UUID_V4 =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    /** The upstream's {@code /headers} body as a map (last value of a repeated name wins). */
    private static Map<String, String> parse(String body) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : body.split("\n")) {
            int c = line.indexOf(": ", 1);
            if (c > 0) {
                m.put(line.substring(0, c), line.substring(c + 2));
            }
        }
        return m;
    }

    private static MeshProxy proxy(ProxyConfig config) {
        return MeshProxy.builder().config(config).eventLoopThreads(1).build().start();
    }

    private static HttpResponse<String> send(HttpClient client, HttpRequest.Builder b) throws Exception {
        return client.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void requestIdIsGeneratedWhenAbsentAndKeptWhenPresent(UpstreamProtocol protocol) throws Exception {
        try (TestUpstream up = TestUpstream.start("a"); MeshProxy proxy = proxy(Configs.simple(protocol, up))) {
            HttpClient client = HttpClient.newBuilder().version(Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/headers");
            String first = parse(send(client, HttpRequest.newBuilder(uri)).body()).get("x-request-id");
            String second = parse(send(client, HttpRequest.newBuilder(uri)).body()).get("x-request-id");
            assertTrue(first != null && UUID_V4.matcher(first).matches(), "generated UUID v4: " + first);
            assertTrue(UUID_V4.matcher(second).matches(), "generated UUID v4: " + second);
            assertNotEquals(first, second, "a new id per request");
            Map<String, String> kept = parse(send(client, HttpRequest.newBuilder(uri)
                    .header("x-request-id", "client-chosen-id-42")).body());
            assertEquals("client-chosen-id-42", kept.get("x-request-id"));
        }
    }

    @Test
    void forwardedForAppendsPeerAndForwardedProtoIsHttp() throws Exception {
        try (TestUpstream up = TestUpstream.start("a"); MeshProxy proxy = proxy(Configs.simple(UpstreamProtocol.HTTP1, up))) {
            HttpClient client = HttpClient.newBuilder().version(Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/headers");
            Map<String, String> h = parse(send(client, HttpRequest.newBuilder(uri)
                    .header("x-forwarded-for", "203.0.113.7")).body());
            assertEquals("203.0.113.7, 127.0.0.1", h.get("x-forwarded-for"));
            assertEquals("http", h.get("x-forwarded-proto"));
            Map<String, String> fresh = parse(send(client, HttpRequest.newBuilder(uri)).body());
            assertEquals("127.0.0.1", fresh.get("x-forwarded-for"));
        }
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void hopByHopHeadersAreRemovedAndTeTrailersKept(UpstreamProtocol protocol) throws Exception {
        try (TestUpstream up = TestUpstream.start("a"); MeshProxy proxy = proxy(Configs.simple(protocol, up));
             RawHttp raw = new RawHttp(proxy.listenerPort("in"))) {
            raw.send("GET /headers HTTP/1.1\r\n"
                    + "Host: svc.example:8080\r\n"
                    + "Connection: keep-alive, X-Custom-Hop, Upgrade\r\n"
                    + "Keep-Alive: timeout=5\r\n"
                    + "X-Custom-Hop: secret\r\n"
                    + "Proxy-Connection: keep-alive\r\n"
                    + "Upgrade: foo/1\r\n"
                    + "TE: trailers\r\n"
                    + "X-End-To-End: kept\r\n"
                    + "\r\n");
            RawHttp.Response r = raw.read();
            assertEquals(200, r.status());
            Map<String, String> h = parse(r.text());
            for (String name : List.of("connection", "keep-alive", "x-custom-hop", "proxy-connection", "upgrade")) {
                assertFalse(h.containsKey(name), name + " must not reach the upstream: " + h);
            }
            assertEquals("kept", h.get("x-end-to-end"));
            assertEquals("trailers", h.get("te"), "te: trailers reaches the upstream (gRPC needs it)");
            assertEquals("svc.example:8080", h.get("host"), "Host arrives as the upstream's authority");
            assertEquals(protocol == UpstreamProtocol.HTTP2 ? "HTTP/2" : "HTTP/1.1", h.get(":protocol"));
            if (protocol == UpstreamProtocol.HTTP1) { // an HTTP/2 upstream's own Netty codec adds these itself
                assertNull(h.get("x-http2-stream-id"), "no Netty extension headers leak");
            }
        }
    }

    @Test
    void http2AuthorityArrivesAsHostAtHttp1Upstream() throws Exception {
        try (TestUpstream up = TestUpstream.start("a"); MeshProxy proxy = proxy(Configs.simple(UpstreamProtocol.HTTP1, up))) {
            HttpClient client = HttpClient.newBuilder().version(Version.HTTP_2).build();
            int port = proxy.listenerPort("in");
            URI uri = URI.create("http://127.0.0.1:" + port + "/headers");
            send(client, HttpRequest.newBuilder(uri)); // the h2c upgrade
            HttpResponse<String> r = send(client, HttpRequest.newBuilder(uri));
            assertEquals(Version.HTTP_2, r.version());
            Map<String, String> h = parse(r.body());
            assertEquals("HTTP/1.1", h.get(":protocol"));
            assertEquals("127.0.0.1:" + port, h.get("host"));
            assertEquals("http", h.get("x-forwarded-proto"));
            assertNull(h.get("x-http2-scheme"), "no Netty extension headers leak");
            assertNull(h.get("x-http2-stream-id"), "no Netty extension headers leak");
        }
    }

    @Test
    void routeHeaderMutationsAndPrefixRewriteApply() throws Exception {
        RouteConfiguration routes = RouteConfiguration.builder().name("routes").virtualHost(VirtualHost.builder()
                .name("all").domain("*")
                .route(Route.builder().name("api")
                        .match(RouteMatch.builder().pathPrefix("/api/").build())
                        .action(RouteAction.builder().cluster("backend").prefixRewrite("/headers/").build())
                        .requestHeaders(HeaderMutation.builder().set("x-added", "yes").remove("x-secret")
                                .add("x-multi", "two").build())
                        .responseHeaders(HeaderMutation.builder().set("x-route", "api").remove("x-upstream").build())
                        .build())
                .build()).build();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = proxy(ProxyConfig.builder()
                     .listener(ListenerConfig.builder().name("in").port(0).routes(routes).build())
                     .cluster(Configs.cluster("backend", UpstreamProtocol.HTTP1, up))
                     .admin(new AdminConfig("127.0.0.1", 0)).build())) {
            HttpClient client = HttpClient.newBuilder().version(Version.HTTP_1_1).build();
            HttpResponse<String> r = send(client, HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/api/items?q=1"))
                    .header("x-secret", "token").header("x-multi", "one"));
            assertEquals(200, r.statusCode());
            String body = r.body();
            Map<String, String> h = parse(body);
            assertEquals("/headers/items?q=1", h.get(":path"));
            assertEquals("yes", h.get("x-added"));
            assertFalse(h.containsKey("x-secret"));
            assertTrue(body.contains("x-multi: one\n") && body.contains("x-multi: two\n"), body);
            assertEquals("api", r.headers().firstValue("x-route").orElse(null));
            assertTrue(r.headers().firstValue("x-upstream").isEmpty(), "response header removed by the route");
        }
    }
}
