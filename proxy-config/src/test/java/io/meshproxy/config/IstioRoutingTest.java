package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's own examples (the canary of the reference documents and of Istio's traffic-shifting task, plus
 * rewrite, redirect, direct response, header operations, DNS resolution and the inbound listener) loaded from
 * files and routed through a real listener to real upstream servers.
 */
class IstioRoutingTest {
    static TestUpstream v1;
    static TestUpstream v2;
    static TestUpstream ratings;
    static MeshProxy proxy;
    static int outbound;
    static int inbound;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        v1 = TestUpstream.start("reviews-v1");
        v2 = TestUpstream.start("reviews-v2");
        ratings = TestUpstream.start("ratings");
        Files.writeString(dir.resolve("proxy.yaml"), """
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: productpage, namespace: default}
                spec:
                  admin: {address: 127.0.0.1, port: 0}
                  listeners:
                  - {name: outbound, address: 127.0.0.1, port: 0, direction: OUTBOUND}
                  - {name: inbound, address: 127.0.0.1, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:%d"}
                """.formatted(ratings.port()));
        // The reference documents' canary: header canary: "true" to v2, otherwise 90/10.
        Files.writeString(dir.resolve("reviews.yaml"), """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: reviews}
                spec:
                  hosts: [reviews.default.svc.cluster.local]
                  location: MESH_INTERNAL
                  ports:
                  - number: 9080
                    name: http
                    protocol: HTTP
                  resolution: STATIC
                  endpoints:
                  - address: 127.0.0.1
                    ports: {http: %d}
                    labels: {app: reviews, version: v1}
                  - address: 127.0.0.1
                    ports: {http: %d}
                    labels: {app: reviews, version: v2}
                ---
                apiVersion: networking.istio.io/v1beta1
                kind: DestinationRule
                metadata:
                  name: reviews
                spec:
                  host: reviews
                  trafficPolicy:
                    loadBalancer:
                      simple: LEAST_REQUEST
                  subsets:
                  - name: v1
                    labels:
                      version: v1
                  - name: v2
                    labels:
                      version: v2
                    trafficPolicy:
                      loadBalancer:
                        simple: ROUND_ROBIN
                ---
                apiVersion: networking.istio.io/v1alpha3
                kind: VirtualService
                metadata:
                  name: reviews
                spec:
                  hosts:
                  - reviews
                  http:
                  - match:
                    - headers:
                        canary:
                          exact: "true"
                    route:
                    - destination:
                        host: reviews
                        subset: v2
                  - route:
                    - destination:
                        host: reviews
                        subset: v1
                      weight: 90
                    - destination:
                        host: reviews
                        subset: v2
                      weight: 10
                """.formatted(v1.port(), v2.port()));
        Files.writeString(dir.resolve("ratings.yaml"), """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: ratings}
                spec:
                  hosts: [ratings.default.svc.cluster.local]
                  ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: admin, protocol: HTTP}]
                  resolution: DNS
                  endpoints: [{address: localhost, ports: {http: %1$d, admin: %1$d}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: ratings}
                spec:
                  hosts: [ratings]
                  http:
                  - name: inspect
                    match: [{uri: {prefix: /inspect}}]
                    rewrite: {uri: /headers}
                    headers:
                      request: {set: {x-mesh: meshproxy}, remove: [x-secret]}
                      response: {add: {x-served-through: ratings-vs}}
                    route: [{destination: {host: ratings}}]
                  - match: [{uri: {exact: /old}}]
                    redirect: {uri: /new, authority: ratings.example.com, redirectCode: 308}
                  - match: [{uri: {exact: /teapot}, method: {exact: POST}}]
                    directResponse: {status: 418, body: {string: "short and stout"}}
                  - match: [{port: 8080}]
                    directResponse: {status: 200, body: {string: "admin port"}}
                  - route: [{destination: {host: ratings}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: details}
                spec:
                  hosts: [details.default.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1, ports: {http: %1$d}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: inventory}
                spec:
                  hosts: [inventory.default.svc.cluster.local]
                  ports: [{number: 80, name: http, protocol: HTTP}, {number: 9090, name: metrics, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1, ports: {http: %1$d, metrics: %1$d}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: inventory}
                spec:
                  hosts: [inventory]
                  http:
                  - match: [{port: 80}]
                    route: [{destination: {host: inventory, port: {number: 80}}}]
                """.formatted(ratings.port()));
        LoadedConfig loaded = ConfigLoader.load(dir);
        assertEquals(new ListenerRole("inbound", ListenerRole.Direction.INBOUND, "127.0.0.1:" + ratings.port()),
                loaded.listener("inbound"));
        proxy = MeshProxy.builder().config(loaded.config()).build().start();
        outbound = proxy.listenerPort("outbound");
        inbound = proxy.listenerPort("inbound");
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        v1.close();
        v2.close();
        ratings.close();
    }

    static RawHttp.Response get(RawHttp c, String host, String path, String... headers) throws IOException {
        return request(c, "GET", host, path, headers);
    }

    static RawHttp.Response request(RawHttp c, String method, String host, String path, String... headers)
            throws IOException {
        StringBuilder b = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        if (method.equals("POST")) {
            b.append("content-length: 0\r\n");
        }
        return c.send(b.append("\r\n").toString()).read();
    }

    @Test
    void canarySplitLandsWithinThreePointsOverTwoThousandRequests() throws Exception {
        Map<String, Integer> landed = new TreeMap<>();
        try (RawHttp c = new RawHttp(outbound)) {
            for (int i = 0; i < 2000; i++) {
                RawHttp.Response r = get(c, "reviews", "/reviews/" + i);
                assertEquals(200, r.status());
                landed.merge(r.headers().get("x-upstream"), 1, Integer::sum);
            }
        }
        int toV1 = landed.getOrDefault("reviews-v1", 0);
        assertEquals(2000, toV1 + landed.getOrDefault("reviews-v2", 0), landed.toString());
        assertTrue(toV1 >= 1740 && toV1 <= 1860, "90% ± 3 points to v1: " + landed);
    }

    @Test
    void canaryHeaderGoesToV2() throws Exception {
        try (RawHttp c = new RawHttp(outbound)) {
            for (int i = 0; i < 50; i++) {
                RawHttp.Response r = get(c, "reviews", "/reviews/" + i, "canary: true");
                assertEquals("reviews-v2", r.headers().get("x-upstream"));
            }
            // Not the header's value: the split.
            Map<String, Integer> landed = new TreeMap<>();
            for (int i = 0; i < 200; i++) {
                landed.merge(get(c, "reviews", "/", "canary: false").headers().get("x-upstream"), 1, Integer::sum);
            }
            assertTrue(landed.getOrDefault("reviews-v1", 0) > 150, landed.toString());
        }
    }

    @Test
    void everyNameOfTheServiceAndItsPortReachIt() throws Exception {
        try (RawHttp c = new RawHttp(outbound)) {
            for (String host : new String[] {"reviews", "reviews:9080", "reviews.default", "reviews.default.svc",
                    "reviews.default.svc.cluster.local", "reviews.default.svc.cluster.local:9080", "REVIEWS"}) {
                assertEquals(200, get(c, host, "/", "canary: true").status(), host);
            }
            // A port no virtual host names is dropped and the host matched alone (as Envoy's strip_any_host_port).
            assertEquals("reviews-v2", get(c, "reviews:9081", "/", "canary: true").headers().get("x-upstream"));
            assertEquals(404, get(c, "productpage", "/").status(), "no such service");
        }
    }

    @Test
    void hostWithoutVirtualServiceGetsADefaultRouteToAllItsEndpoints() throws Exception {
        try (RawHttp c = new RawHttp(outbound)) {
            RawHttp.Response r = get(c, "details:9080", "/details/1");
            assertEquals(200, r.status());
            assertEquals("ratings", r.headers().get("x-upstream"));
        }
    }

    @Test
    void rewriteAndHeaderOperations() throws Exception {
        try (RawHttp c = new RawHttp(outbound)) {
            RawHttp.Response r = get(c, "ratings", "/inspect/1?x=1", "x-secret: hunter2");
            assertEquals(200, r.status());
            String seen = r.text();
            assertTrue(seen.contains(":path: /headers/1?x=1"), seen);
            assertTrue(seen.contains("x-mesh: meshproxy"), seen);
            assertTrue(!seen.contains("hunter2"), seen);
            assertEquals("ratings-vs", r.headers().get("x-served-through"));
        }
    }

    @Test
    void redirectAndDirectResponse() throws Exception {
        try (RawHttp c = new RawHttp(outbound)) {
            RawHttp.Response r = get(c, "ratings", "/old?q=1");
            assertEquals(308, r.status());
            assertEquals("http://ratings.example.com/new?q=1", r.headers().get("location"));
            RawHttp.Response teapot = request(c, "POST", "ratings", "/teapot");
            assertEquals(418, teapot.status());
            assertEquals("short and stout", teapot.text());
            assertEquals(200, get(c, "ratings", "/teapot").status(), "GET /teapot is not the POST route");
        }
    }

    @Test
    void portMatchSelectsRoutesOfThatPortOnly() throws Exception {
        try (RawHttp c = new RawHttp(outbound)) {
            assertEquals("admin port", get(c, "ratings:8080", "/anything").text());
            RawHttp.Response r = get(c, "ratings", "/anything");
            assertEquals("ratings", r.headers().get("x-upstream"), "port 80 is the default port");
            assertEquals("ratings", get(c, "ratings:80", "/anything").headers().get("x-upstream"));
        }
    }

    @Test
    void aPortTheVirtualServiceDoesNotRouteIsNotRoutedByAnotherPortsRoutes() throws Exception {
        try (RawHttp c = new RawHttp(outbound)) {
            assertEquals(200, get(c, "inventory", "/").status());
            assertEquals(404, get(c, "inventory:9090", "/").status(), "no route on port 9090: 404 NR, as Envoy");
        }
    }

    @Test
    void dnsResolutionReachesAHostName() throws Exception {
        // ratings' endpoint is "localhost" (resolution DNS).
        try (RawHttp c = new RawHttp(outbound)) {
            assertEquals(200, get(c, "ratings.default.svc.cluster.local", "/").status());
        }
    }

    @Test
    void inboundListenerForwardsToTheLocalApplication() throws Exception {
        try (RawHttp c = new RawHttp(inbound)) {
            RawHttp.Response r = get(c, "anything.example", "/hello");
            assertEquals(200, r.status());
            assertEquals("ratings", r.headers().get("x-upstream"));
        }
    }
}
