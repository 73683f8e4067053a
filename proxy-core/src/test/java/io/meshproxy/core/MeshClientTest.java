package io.meshproxy.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.LbPolicy;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.http.AggregatedBody;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.BodySubscriber;
import io.meshproxy.core.http.BodySubscription;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpData;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RoutingMesh;
import io.meshproxy.core.testing.Tally;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The in-process client against the same configuration as {@code RoutingAcceptanceTest} (see
 * {@link RoutingMesh}): it must route and balance exactly as the listener does, stream bodies both ways, run
 * the application's filters, and refuse to block an event loop. Also the in-process inbound side: a listener
 * whose requests are answered by a handler in this JVM.
 */
class MeshClientTest {
    private static final int MAX = 16 << 20;
    private static final String UUID_V4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

    private static RoutingMesh mesh;
    private static MeshProxy proxy;
    private static MeshClient client;
    /** What the inbound handler saw, one entry per request. */
    private static final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();

    record Seen(String method, String path, String authority, Headers headers, byte[] body, String thread) {}

    @BeforeAll
    static void start() throws Exception {
        mesh = RoutingMesh.start();
        AtomicReference<MeshClient> self = new AtomicReference<>();
        ListenerConfig inbound = ListenerConfig.builder().name("inbound").port(0).handler("app").build();
        proxy = MeshProxy.builder().config(mesh.config(inbound)).eventLoopThreads(2)
                // Marks every request with the entry point it came through; the upstream echoes it on /headers.
                .filter((ctx, req, next) -> {
                    req.headers().set("x-mesh-filter", ctx.protocol());
                    return next.serve(ctx, req);
                })
                // Answers locally, before any route or upstream is used.
                .filter((ctx, req, next) -> {
                    if (req.path().equals("/filter-says-no")) {
                        req.body().discard();
                        return CompletableFuture.completedFuture(HttpResponse.of(401, "text/plain", "no, says the filter"));
                    }
                    return next.serve(ctx, req);
                })
                // Tries to block its own event loop with send(): must be refused.
                .filter(blockingSendAttempt(self))
                .handler("app", (ctx, req) -> req.body().aggregate(MAX).thenApply(body -> {
                    seen.add(new Seen(req.method(), req.path(), req.authority(), req.headers().copy(), body.bytes(),
                            Thread.currentThread().getName()));
                    HttpResponse r = HttpResponse.of(201, "text/plain",
                            "app got " + body.bytes().length + " bytes for " + req.method() + " " + req.path());
                    r.headers().set("x-app-request-id", String.valueOf(req.headers().get("x-request-id")));
                    r.headers().add("x-app-multi", "one");
                    r.headers().add("x-app-multi", "two");
                    return r;
                }))
                .build().start();
        client = proxy.client();
        self.set(client);
    }

    private static HttpFilter blockingSendAttempt(AtomicReference<MeshClient> self) {
        return (ctx, req, next) -> {
            if (!req.path().equals("/nested-send")) {
                return next.serve(ctx, req);
            }
            req.body().discard();
            String outcome;
            try {
                HttpResponse r = self.get().send(HttpRequest.get("svc", "/stable"));
                r.body().discard();
                outcome = "not refused: " + r.status();
            } catch (IllegalStateException e) {
                outcome = "refused: " + e.getMessage();
            } catch (Exception e) {
                outcome = "failed: " + e;
            }
            return CompletableFuture.completedFuture(HttpResponse.of(200, "text/plain", outcome));
        };
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    @BeforeEach
    void clear() {
        seen.clear();
    }

    private static HttpResponse send(HttpRequest request) throws Exception {
        return client.send(request);
    }

    private static String body(HttpResponse r) {
        return r.body().aggregate(MAX).join().utf8();
    }

    /** Sends and reads the whole response; returns where it landed. */
    private static String landedOn(HttpRequest request) throws Exception {
        HttpResponse r = send(request);
        String text = body(r);
        assertEquals(200, r.status(), text);
        return r.headers().get("x-upstream");
    }

    // ---- routing and balancing: the same results as through the listener ----

    @Test
    void weightedClustersSplit90To10() throws Exception {
        Tally t = new Tally();
        for (int i = 0; i < 2000; i++) {
            t.add(landedOn(HttpRequest.get("svc", "/split/x")));
        }
        assertEquals(2000, t.count("stable") + t.count("canary"), t::toString);
        assertEquals(90.0, t.percent("stable"), 3.0, t::toString);
        assertEquals(10.0, t.percent("canary"), 3.0, t::toString);
    }

    @Test
    void headerMatchSendsEveryMatchingRequestToItsCluster() throws Exception {
        Tally canary = new Tally();
        Tally rest = new Tally();
        for (int i = 0; i < 200; i++) {
            HttpRequest r = HttpRequest.get("svc", "/stable/x");
            r.headers().set("x-canary", "true");
            canary.add(landedOn(r));
            rest.add(landedOn(HttpRequest.get("svc", "/stable/x")));
        }
        assertEquals(200, canary.count("canary"), canary::toString);
        assertEquals(200, rest.count("stable"), rest::toString);
    }

    @Test
    void subsetsRouteOnlyToEndpointsWithTheirLabels() throws Exception {
        Tally v1 = new Tally();
        Tally v2 = new Tally();
        for (int i = 0; i < 200; i++) {
            v1.add(landedOn(HttpRequest.get("svc", "/v1/items")));
            v2.add(landedOn(HttpRequest.get("svc", "/v2/items")));
        }
        assertEquals(200, v1.count("v1a") + v1.count("v1b"), v1::toString);
        assertTrue(v1.count("v1a") > 0 && v1.count("v1b") > 0, v1::toString);
        assertEquals(200, v2.count("v2"), v2::toString);
    }

    @Test
    void localRepliesComeBackAsResponses() throws Exception {
        HttpResponse noRoute = client.execute(HttpRequest.get("svc", "/no/such/route")).get(10, TimeUnit.SECONDS);
        assertEquals(404, noRoute.status());
        body(noRoute);

        HttpResponse noEndpoints = send(HttpRequest.get("svc", "/empty"));
        assertEquals(503, noEndpoints.status());
        body(noEndpoints);

        HttpResponse redirect = send(HttpRequest.get("svc", "/redirect"));
        assertEquals(302, redirect.status());
        assertEquals(RoutingMesh.REDIRECT_LOCATION, redirect.headers().get("location"));
        body(redirect);

        HttpResponse direct = send(HttpRequest.get("svc", "/direct"));
        assertEquals(403, direct.status());
        assertEquals(RoutingMesh.DIRECT_BODY, body(direct));
    }

    /** Cluster "backend" of upstreams v1a, v1b, v2 with {@code policy} and {@code weights}; one event loop. */
    private static MeshProxy balancing(LbPolicy policy, int... weights) {
        TestUpstream[] ups = {mesh.v1a, mesh.v1b, mesh.v2};
        ClusterConfig.Builder cluster = ClusterConfig.builder().name("backend").lbPolicy(policy);
        for (int i = 0; i < weights.length; i++) {
            cluster.endpoint(EndpointConfig.builder().address("127.0.0.1").port(ups[i].port()).weight(weights[i]).build());
        }
        ProxyConfig config = ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("lb").port(0).routes(Configs.allTo("backend")).build())
                .cluster(cluster.build()).build();
        return MeshProxy.builder().config(config).eventLoopThreads(1).build().start();
    }

    private static Tally sequential(MeshClient c, int n) throws Exception {
        Tally t = new Tally();
        for (int i = 0; i < n; i++) {
            HttpResponse r = c.send(HttpRequest.get("svc", "/lb"));
            assertEquals(200, r.status());
            body(r);
            t.add(r.headers().get("x-upstream"));
        }
        return t;
    }

    @Test
    void roundRobinIsExactlyEven() throws Exception {
        try (MeshProxy p = balancing(LbPolicy.ROUND_ROBIN, 1, 1, 1)) {
            Tally t = sequential(p.client(), 300);
            assertEquals(Map.of("v1a", 100, "v1b", 100, "v2", 100), t.counts());
        }
    }

    @ParameterizedTest
    @EnumSource(value = LbPolicy.class, names = {"RANDOM", "LEAST_REQUEST"})
    void spreadsEvenlyOverThreeUpstreams(LbPolicy policy) throws Exception {
        try (MeshProxy p = balancing(policy, 1, 1, 1)) {
            Tally t = sequential(p.client(), 3000);
            for (String n : List.of("v1a", "v1b", "v2")) {
                assertEquals(100.0 / 3, t.percent(n), 5.0, () -> policy + ": " + t);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(LbPolicy.class)
    void endpointWeightsThreeToOneAreHonoured(LbPolicy policy) throws Exception {
        try (MeshProxy p = balancing(policy, 3, 1)) {
            Tally t = sequential(p.client(), 4000);
            assertEquals(75.0, t.percent("v1a"), 4.0, () -> policy + ": " + t);
            assertEquals(25.0, t.percent("v1b"), 4.0, () -> policy + ": " + t);
        }
    }

    // ---- async and blocking ----

    @Test
    void executeIsAsynchronousAndManyRequestsRunAtOnce() throws Exception {
        List<CompletableFuture<String>> bodies = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            bodies.add(client.execute(HttpRequest.get("svc", "/stable/" + i))
                    .thenCompose(r -> r.body().aggregate(MAX))
                    .thenApply(AggregatedBody::utf8)
                    .toCompletableFuture());
        }
        for (CompletableFuture<String> b : bodies) {
            assertEquals("stable", b.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void sendBlocksUntilTheResponseHeadArrives() throws Exception {
        HttpResponse r = send(HttpRequest.get("svc", "/stable"));
        assertEquals(200, r.status());
        assertEquals("stable", r.headers().get("x-upstream"));
        assertEquals("stable", body(r));
    }

    @Test
    void sendOnAnEventLoopIsRefused() throws Exception {
        int before = mesh.stable.requestsReceived();
        HttpResponse r = send(HttpRequest.get("svc", "/nested-send"));
        String text = body(r);
        assertTrue(text.startsWith("refused: "), text);
        assertTrue(text.contains("execute()"), "the message points at the alternative: " + text);
        assertEquals(before, mesh.stable.requestsReceived(), "the refused request was not sent");
    }

    // ---- streaming bodies ----

    @Test
    void uploadsOneMebibyteAndReadsItBackByteForByte() throws Exception {
        byte[] payload = new byte[1 << 20];
        ThreadLocalRandom.current().nextBytes(payload);
        HttpRequest request = HttpRequest.post("svc", "/echo", Body.of(payload));
        request.headers().set("content-type", "application/octet-stream");
        HttpResponse r = send(request);
        assertEquals(200, r.status());
        AggregatedBody echoed = r.body().aggregate(MAX).get(30, TimeUnit.SECONDS);
        assertArrayEquals(payload, echoed.bytes());
    }

    @Test
    void downloadsFiveMebibytesOneChunkAtATime() throws Exception {
        long size = 5L << 20;
        HttpResponse r = send(HttpRequest.get("svc", "/bytes/" + size));
        assertEquals(200, r.status());
        OneAtATime reader = new OneAtATime();
        r.body().subscribe(reader);
        reader.done.get(30, TimeUnit.SECONDS);
        assertEquals(size, reader.bytes);
        assertEquals(TestUpstream.patternSha256(size), HexFormat.of().formatHex(reader.digest.digest()));
        assertTrue(reader.chunks > 1, "streamed in chunks, not one buffer: " + reader.chunks);
        assertEquals(0, reader.overDelivered, "never more chunks than requested");
    }

    /** Asks for one chunk, digests and releases it, asks for the next. */
    private static final class OneAtATime implements BodySubscriber {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final MessageDigest digest = TestUpstream.sha256();
        BodySubscription subscription;
        long bytes;
        int chunks;
        int outstanding;
        int overDelivered;

        @Override
        public void onSubscribe(BodySubscription s) {
            subscription = s;
            outstanding = 1;
            s.request(1);
        }

        @Override
        public void onData(HttpData data) {
            try {
                if (--outstanding < 0) {
                    overDelivered++;
                }
                byte[] b = data.toByteArray();
                digest.update(b);
                bytes += b.length;
                chunks++;
            } finally {
                data.release();
            }
            outstanding++;
            subscription.request(1);
        }

        @Override
        public void onComplete() {
            done.complete(null);
        }

        @Override
        public void onError(Throwable cause) {
            done.completeExceptionally(cause);
        }
    }

    // ---- user filters run for both entry points ----

    @Test
    void userFilterRunsForTheListenerAndTheInProcessClient() throws Exception {
        HttpResponse inProcess = send(HttpRequest.get("svc", "/headers"));
        assertTrue(body(inProcess).contains("x-mesh-filter: in-process\n"));

        HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        java.net.http.HttpResponse<String> viaListener = jdk.send(
                java.net.http.HttpRequest.newBuilder(listenerUri("out", "/headers")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertTrue(viaListener.body().contains("x-mesh-filter: HTTP/1.1\n"), viaListener.body());
    }

    @Test
    void userFilterAnswersLocallyForBothEntryPoints() throws Exception {
        int before = mesh.upstreamRequests();
        HttpResponse inProcess = send(HttpRequest.get("svc", "/filter-says-no"));
        assertEquals(401, inProcess.status());
        assertEquals("no, says the filter", body(inProcess));

        HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        java.net.http.HttpResponse<String> viaListener = jdk.send(
                java.net.http.HttpRequest.newBuilder(listenerUri("out", "/filter-says-no")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(401, viaListener.statusCode());
        assertEquals("no, says the filter", viaListener.body());
        assertEquals(before, mesh.upstreamRequests());
    }

    // ---- in-process inbound: a listener answered by a handler in this JVM ----

    @Test
    void inboundHandlerAnswersHttp1ClientThroughTheListener() throws Exception {
        inboundRoundTrip(HttpClient.Version.HTTP_1_1);
    }

    @Test
    void inboundHandlerAnswersHttp2ClientThroughTheListener() throws Exception {
        inboundRoundTrip(HttpClient.Version.HTTP_2);
    }

    private void inboundRoundTrip(HttpClient.Version version) throws Exception {
        int upstreamBefore = mesh.upstreamRequests();
        byte[] payload = new byte[256 * 1024];
        ThreadLocalRandom.current().nextBytes(payload);
        HttpClient jdk = HttpClient.newBuilder().version(version).build();
        java.net.http.HttpResponse<String> r = jdk.send(
                java.net.http.HttpRequest.newBuilder(listenerUri("inbound", "/orders/7?x=1"))
                        .header("x-caller", "test")
                        .PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(payload)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());

        assertEquals(version, r.version());
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("app got " + payload.length + " bytes for PUT /orders/7?x=1", r.body());
        assertEquals(List.of("one", "two"), r.headers().allValues("x-app-multi"));
        assertEquals("text/plain", r.headers().firstValue("content-type").orElse(null));

        assertEquals(1, seen.size());
        Seen s = seen.poll();
        assertEquals("PUT", s.method());
        assertEquals("/orders/7?x=1", s.path());
        assertEquals("127.0.0.1:" + proxy.listenerPort("inbound"), s.authority());
        assertEquals("test", s.headers().get("x-caller"));
        String requestId = s.headers().get("x-request-id");
        assertNotNull(requestId, "the request-id filter ran before the handler");
        assertTrue(requestId.matches(UUID_V4), requestId);
        assertEquals(requestId, r.headers().firstValue("x-app-request-id").orElse(null));
        assertEquals(version == HttpClient.Version.HTTP_2 ? "HTTP/2" : "HTTP/1.1", s.headers().get("x-mesh-filter"));
        assertArrayEquals(payload, s.body());
        assertTrue(s.thread().startsWith("meshproxy"), "the handler runs on the mesh's event loop: " + s.thread());

        assertEquals(upstreamBefore, mesh.upstreamRequests(), "no hop to any upstream");
    }

    @Test
    void inboundHandlerReceivesAStreamedBodyAndSeesAnEmptyOne() throws Exception {
        int upstreamBefore = mesh.upstreamRequests();
        HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        // A body of unknown length: sent chunked, delivered to the handler as a stream.
        byte[] chunk = "0123456789abcdef".repeat(4096).getBytes(StandardCharsets.US_ASCII);
        java.net.http.HttpResponse<String> r = jdk.send(
                java.net.http.HttpRequest.newBuilder(listenerUri("inbound", "/upload"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(
                                () -> new java.io.SequenceInputStream(java.util.Collections.enumeration(List.of(
                                        new java.io.ByteArrayInputStream(chunk), new java.io.ByteArrayInputStream(chunk),
                                        new java.io.ByteArrayInputStream(chunk)))))).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode());
        assertEquals("app got " + 3 * chunk.length + " bytes for POST /upload", r.body());

        java.net.http.HttpResponse<String> g = jdk.send(
                java.net.http.HttpRequest.newBuilder(listenerUri("inbound", "/empty-body")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals("app got 0 bytes for GET /empty-body", g.body());
        assertEquals(2, seen.size());
        assertEquals(upstreamBefore, mesh.upstreamRequests());
    }

    private static URI listenerUri(String listener, String path) {
        return URI.create("http://127.0.0.1:" + proxy.listenerPort(listener) + path);
    }

    @Test
    void clientByListenerNameEntersThatListener() throws Exception {
        int upstreamBefore = mesh.upstreamRequests();
        HttpResponse r = proxy.client("inbound").send(HttpRequest.post("app.local", "/direct-call", Body.of("hi")));
        assertEquals(201, r.status());
        assertEquals("app got 2 bytes for POST /direct-call", body(r));
        assertEquals(upstreamBefore, mesh.upstreamRequests());
    }
}
