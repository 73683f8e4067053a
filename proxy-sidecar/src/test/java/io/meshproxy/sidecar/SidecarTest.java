package io.meshproxy.sidecar;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.config.ConfigError;
import io.meshproxy.config.ConfigFileException;
import io.meshproxy.config.ConfigLoader;
import io.meshproxy.config.LoadedConfig;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run wiring of the jar ({@code meshproxy run -c DIR}), in-process: start from a directory of YAML files,
 * route, reload on a change, keep serving on an invalid change, drain on close.
 */
class SidecarTest {
    private static TestUpstream v1;
    private static TestUpstream v2;

    @BeforeAll
    static void upstreams() throws Exception {
        v1 = TestUpstream.start("v1");
        v2 = TestUpstream.start("v2");
    }

    @AfterAll
    static void stopUpstreams() {
        v1.close();
        v2.close();
    }

    static final String PROXY = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: test, namespace: default}
            spec:
              admin: {address: 127.0.0.1, port: 0}
              listeners:
              - {name: outbound, address: 127.0.0.1, port: 0, direction: OUTBOUND}
              - {name: inbound, address: 127.0.0.1, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:%d"}
            """;

    /** ServiceEntry + DestinationRule + VirtualService for reviews; {@code route} is the VirtualService's http list. */
    static String reviews(int v1Port, int v2Port, String route) {
        return """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: reviews}
                spec:
                  hosts: [reviews.default.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints:
                  - {address: 127.0.0.1, ports: {http: %d}, labels: {version: v1}}
                  - {address: 127.0.0.1, ports: {http: %d}, labels: {version: v2}}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: reviews}
                spec:
                  host: reviews
                  subsets:
                  - {name: v1, labels: {version: v1}}
                  - {name: v2, labels: {version: v2}}
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: reviews}
                spec:
                  hosts: [reviews]
                  http:
                """.formatted(v1Port, v2Port) + route;
    }

    static final String CANARY_THEN_V1 = """
              - match: [{headers: {canary: {exact: "true"}}}]
                route: [{destination: {host: reviews, subset: v2}}]
              - route: [{destination: {host: reviews, subset: v1}}]
            """;

    static final String ALL_TO_V2 = """
              - route: [{destination: {host: reviews, subset: v2}}]
            """;

    /** Writes a file the way Kubernetes updates a ConfigMap: a temporary file renamed over the old one. */
    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static Path configDir(Path dir) throws IOException {
        Files.writeString(dir.resolve("proxy.yaml"), PROXY.formatted(v1.port()));
        Files.writeString(dir.resolve("reviews.yaml"), reviews(v1.port(), v2.port(), CANARY_THEN_V1));
        return dir;
    }

    @Test
    void startsFromADirectoryRoutesAndStops(@TempDir Path dir) throws Exception {
        Sidecar sidecar = Sidecar.start(List.of(configDir(dir)), 1);
        int outbound;
        try {
            MeshProxy mesh = sidecar.mesh();
            outbound = mesh.listenerPort("outbound");
            assertEquals("v2", upstreamOf(get(outbound, "reviews", "canary: true\r\n")));
            assertEquals("v1", upstreamOf(get(outbound, "reviews.default.svc.cluster.local:9080", "")));
            assertEquals(404, get(outbound, "ratings", "").status());
            assertEquals("v1", upstreamOf(get(mesh.listenerPort("inbound"), "whatever", "canary: true\r\n")));
            assertTrue(mesh.versionInfo().matches("[0-9a-f]{12}"), mesh.versionInfo());
            LoadedConfig loaded = ConfigLoader.load(dir);
            assertEquals("listener outbound OUTBOUND 127.0.0.1:" + outbound,
                    Sidecar.describe(mesh, mesh.config().listeners().get(0), loaded.listener("outbound")));
            assertEquals("listener inbound INBOUND 127.0.0.1:" + mesh.listenerPort("inbound") + " -> 127.0.0.1:"
                    + v1.port(), Sidecar.describe(mesh, mesh.config().listeners().get(1), loaded.listener("inbound")));
        } finally {
            sidecar.close();
        }
        assertEquals(MeshProxy.State.TERMINATED, sidecar.mesh().state());
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", outbound).close(), "stopped listening");
        sidecar.close(); // idempotent
    }

    @Test
    void swapsInAValidChangeAndKeepsServingThroughAnInvalidOne(@TempDir Path dir) throws Exception {
        Sidecar sidecar = Sidecar.start(List.of(configDir(dir)), 1);
        try {
            int outbound = sidecar.mesh().listenerPort("outbound");
            String first = sidecar.mesh().versionInfo();
            assertEquals("v1", upstreamOf(get(outbound, "reviews", "")));

            writeAtomically(dir.resolve("reviews.yaml"), reviews(v1.port(), v2.port(), ALL_TO_V2));
            await().atMost(Duration.ofSeconds(10)).until(() -> sidecar.watcher().appliedCount() == 1);
            assertTrue(!sidecar.mesh().versionInfo().equals(first), "a new version is in force");
            assertEquals(sidecar.watcher().appliedVersion(), sidecar.mesh().versionInfo());
            assertEquals("v2", upstreamOf(get(outbound, "reviews", "")));
            assertEquals(outbound, sidecar.mesh().listenerPort("outbound"), "the listener was not rebound");

            String good = sidecar.mesh().versionInfo();
            writeAtomically(dir.resolve("reviews.yaml"), reviews(v1.port(), v2.port(), ALL_TO_V2.replace("subset", "subst")));
            await().atMost(Duration.ofSeconds(10)).until(() -> sidecar.watcher().rejectedCount() == 1);
            List<ConfigError> errors = sidecar.watcher().lastErrors();
            assertEquals(1, errors.size(), errors.toString());
            assertEquals(dir.resolve("reviews.yaml").toString(), errors.get(0).file());
            assertTrue(errors.get(0).message().contains("'subst'"), errors.get(0).toString());
            assertEquals(good, sidecar.mesh().versionInfo(), "the last good configuration keeps serving");
            assertEquals("v2", upstreamOf(get(outbound, "reviews", "")));
        } finally {
            sidecar.close();
        }
    }

    @Test
    void closeDrainsARequestInFlightAndRefusesNewConnections(@TempDir Path dir) throws Exception {
        Sidecar sidecar = Sidecar.start(List.of(configDir(dir)), 1);
        int outbound = sidecar.mesh().listenerPort("outbound");
        int before = v1.requestsReceived();
        CompletableFuture<RawHttp.Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try (RawHttp http = new RawHttp(outbound)) {
                // Keep-alive request: the drain has to tell this client the connection is closing.
                return http.send("GET /delay/1500 HTTP/1.1\r\nHost: reviews\r\n\r\n").read();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> v1.requestsReceived() > before);
        CompletableFuture<Void> closed = CompletableFuture.runAsync(sidecar::close);
        await().atMost(Duration.ofSeconds(10)).until(() -> refuses(outbound));
        RawHttp.Response r = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(200, r.status(), "the request in flight finished");
        assertEquals("v1", r.headers().get("x-upstream"));
        assertEquals("close", r.headers().get("connection"), "answered during the drain");
        closed.get(10, TimeUnit.SECONDS);
        assertEquals(MeshProxy.State.TERMINATED, sidecar.mesh().state());
    }

    @Test
    void invalidFilesStartNothingAndSayWhere(@TempDir Path dir) throws Exception {
        configDir(dir);
        Files.writeString(dir.resolve("reviews.yaml"), reviews(v1.port(), v2.port(), ALL_TO_V2.replace("v2}", "v3}")));
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> Sidecar.start(List.of(dir), 1));
        assertEquals(1, e.errors().size(), e.errors().toString());
        ConfigError error = e.errors().get(0);
        assertEquals(dir.resolve("reviews.yaml").toString(), error.file());
        assertTrue(error.message().contains("subset 'v3' is not defined"), error.toString());
        // The line of the VirtualService's route, where 'v3' is written.
        List<String> lines = Files.readAllLines(dir.resolve("reviews.yaml"));
        assertTrue(lines.get(error.line() - 1).contains("subset: v3"), lines.get(error.line() - 1));
    }

    private static boolean refuses(int port) {
        try {
            new Socket("127.0.0.1", port).close();
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static String upstreamOf(RawHttp.Response r) {
        assertEquals(200, r.status(), r.text());
        return r.headers().get("x-upstream");
    }

    static RawHttp.Response get(int port, String host, String extraHeaders) throws IOException {
        try (RawHttp http = new RawHttp(port)) {
            return http.send("GET /reviews/1 HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeaders
                    + "Connection: close\r\n\r\n").read();
        }
    }
}
