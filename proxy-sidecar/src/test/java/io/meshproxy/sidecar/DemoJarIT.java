package io.meshproxy.sidecar;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.testing.H2cClient;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar, {@code java -jar meshproxy.jar} in demo mode, in its own JVM: it comes up ready, routes
 * real HTTP/1.1 and h2c traffic by Host on the outbound listener, reaches v1 over mTLS through its STRICT inbound
 * listener (v1 shows the caller's SPIFFE identity; plaintext to that listener gets nothing), prints the identity and
 * where its certificates are, and on SIGTERM lets a request in flight finish, refuses new connections, logs its
 * drain, deletes the certificates and exits.
 */
class DemoJarIT {
    /** SIGTERM: the JVM exits with 128 + 15 once its shutdown hooks have run. */
    private static final int EXIT_ON_SIGTERM = 143;
    private static final Duration START = Duration.ofSeconds(60);

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void demoRoutesByHostAndDrainsOnSigterm() throws Exception {
        int[] ports = JarProcess.freePorts(3);
        int admin = ports[0];
        int outbound = ports[1];
        int inbound = ports[2];
        try (JarProcess jar = JarProcess.start("--admin-port", "" + admin, "--outbound-port", "" + outbound,
                "--inbound-port", "" + inbound)) {
            await().atMost(START).pollInterval(Duration.ofMillis(50))
                    .failFast("the jar exited:\n" + jar.output(), () -> !jar.isAlive())
                    .ignoreExceptions()
                    .until(() -> get(admin, "/ready", null, null).statusCode() == 200);

            // Outbound: the canary header to v2; a plain request served (by v1 or v2); an unknown host 404.
            HttpResponse<String> canary = get(outbound, "/reviews/1", "reviews", "true");
            assertEquals(200, canary.statusCode(), canary.body());
            assertEquals("reviews-v2", canary.headers().firstValue("x-served-by").orElse(null));
            assertTrue(canary.body().contains("\"version\":\"v2\""), canary.body());
            HttpResponse<String> plain = get(outbound, "/reviews/2", "reviews", null);
            assertEquals(200, plain.statusCode(), plain.body());
            assertTrue(plain.headers().firstValue("x-served-by").orElse("").matches("reviews-v[12]"), plain.headers().toString());
            assertEquals(200, get(outbound, "/reviews/3", "reviews.default.svc.cluster.local:9080", "true").statusCode());
            assertEquals(404, get(outbound, "/reviews/4", "ratings", null).statusCode());
            try (H2cClient h2 = new H2cClient(outbound)) {
                assertEquals(200, h2.get("reviews", "/reviews/5").get(10, TimeUnit.SECONDS).status());
            }

            // v1 is reached over mTLS through the inbound listener, and shows who called it.
            String principal = "spiffe://cluster.local/ns/default/sa/bookinfo-reviews";
            String[] fromV1 = new String[1];
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                HttpResponse<String> r = get(outbound, "/reviews/6", "reviews", null);
                if (r.statusCode() == 200 && r.body().contains("\"version\":\"v1\"")) {
                    fromV1[0] = r.body();
                }
                return fromV1[0] != null;
            });
            assertTrue(fromV1[0].contains("\"peer\":\"" + principal + "\""), fromV1[0]);
            // Inbound: STRICT, so a plaintext client gets no answer (curl: "Empty reply from server").
            assertThrows(IOException.class, () -> get(inbound, "/reviews/6", null, "true"));

            // What the user reads: the demo traffic, the curl commands with the real ports, the start-up log.
            jar.awaitLine(l -> l.startsWith("10 requests with canary: true:") && l.endsWith("{reviews-v2=10}"), START);
            jar.awaitLine(l -> l.equals("reviews v1 saw its caller over mTLS as: " + principal), START);
            jar.awaitLine(l -> l.matches("  mTLS identity     " + Pattern.quote(principal) + " \\(trust domain cluster\\.local\\).*"),
                    START);
            jar.awaitLine(l -> l.equals("  curl -sS http://127.0.0.1:" + inbound
                    + "/reviews/1  # plaintext to the inbound listener: refused by STRICT"), START);
            jar.awaitLine(l -> l.equals("  curl -s -H 'Host: reviews' -H 'canary: true' http://127.0.0.1:" + outbound
                    + "/reviews/1"), START);
            jar.awaitLine(l -> l.equals("  curl -s http://127.0.0.1:" + admin
                    + "/stats/prometheus | grep istio_requests_total"), START);
            String iso = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) ";
            jar.awaitLine(l -> l.matches(iso + "INFO Sidecar - listener outbound OUTBOUND 127\\.0\\.0\\.1:" + outbound), START);
            jar.awaitLine(l -> l.matches(iso + "INFO Sidecar - listener inbound INBOUND 127\\.0\\.0\\.1:" + inbound
                    + " -> 127\\.0\\.0\\.1:\\d+"), START);
            jar.awaitLine(l -> l.matches(iso + "INFO Sidecar - admin 127\\.0\\.0\\.1:" + admin), START);
            jar.awaitLine(l -> l.matches(iso + "INFO Sidecar - telemetry: workload reviews-v1\\.default \\(app reviews,"
                    + " version v1\\); metrics on \\(at most 10000 series\\); tracing off; access logs off"), START);
            jar.awaitLine(l -> l.matches(iso + "INFO Sidecar - configuration [0-9a-f]{12} loaded from \\[embedded:demo\\.yaml]"), START);
            jar.awaitLine(l -> l.matches(iso + "INFO Sidecar - mTLS identity " + Pattern.quote(principal)
                    + " \\(trust domain cluster\\.local\\), certificate valid until .*"), START);
            String certDir = jar.output().lines().filter(l -> l.contains("certificate, key and trust bundle in "))
                    .findFirst().orElseThrow().replaceAll(".* in (.*) \\(deleted at exit\\)$", "$1");
            assertTrue(Files.isRegularFile(Path.of(certDir, "cert-chain.pem")), certDir);

            // Let the paranoid leak detector see every buffer so far: collect it, then allocate again.
            gc(jar.pid());
            for (int i = 0; i < 20; i++) {
                assertEquals(200, get(outbound, "/reviews/" + i, "reviews", null).statusCode());
            }

            // A slow request (to v2) in flight when SIGTERM arrives.
            CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(
                    request(outbound, "/reviews/7?delay_ms=4000", "reviews", "true"), HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> get(admin, "/clusters", null, null).body()
                    .lines().anyMatch(l -> l.startsWith("outbound|9080|v2|") && l.endsWith("::rq_active::1")));
            jar.sigterm();

            jar.awaitLine(l -> l.contains("INFO Sidecar - draining"), Duration.ofSeconds(10));
            assertFalse(inFlight.isDone(), "SIGTERM came while the request was in flight");
            await().atMost(Duration.ofSeconds(10)).until(() -> refuses(outbound));
            HttpResponse<String> slow = inFlight.get(20, TimeUnit.SECONDS);
            assertEquals(200, slow.statusCode(), "the request in flight finished: " + slow.body());
            assertEquals("reviews-v2", slow.headers().firstValue("x-served-by").orElse(null));
            assertEquals("close", slow.headers().firstValue("connection").orElse(null), "answered while draining");

            assertEquals(EXIT_ON_SIGTERM, jar.awaitExit(Duration.ofSeconds(30)), jar.output());
            String out = jar.output();
            assertTrue(out.lines().anyMatch(l -> l.matches(iso + "INFO Sidecar - drained in \\d+ ms")), out);
            assertTrue(out.lines().anyMatch(l -> l.matches(iso + "INFO Sidecar - stopped")), out);
            assertFalse(out.contains("LEAK:"), "Netty buffer leak in the jar:\n" + out);
            assertFalse(out.contains("Exception"), out);
            assertFalse(Files.exists(Path.of(certDir)), "the demo's certificates are deleted at exit: " + certDir);
        }
    }

    /** Forces a full GC in the child ({@code jcmd PID GC.run}), so leaked buffers reach the leak detector. */
    private static void gc(long pid) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.run").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "jcmd GC.run did not finish");
            assertEquals(0, p.exitValue(), "jcmd " + pid + " GC.run");
        } finally {
            p.destroyForcibly();
        }
    }

    private static boolean refuses(int port) {
        try {
            new Socket("127.0.0.1", port).close();
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private HttpResponse<String> get(int port, String path, String host, String canary) throws Exception {
        return http.send(request(port, path, host, canary), HttpResponse.BodyHandlers.ofString());
    }

    /** Host is a restricted header: failsafe runs with -Djdk.httpclient.allowRestrictedHeaders=host. */
    private static HttpRequest request(int port, String path, String host, String canary) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20));
        if (host != null) {
            b.header("Host", host);
        }
        if (canary != null) {
            b.header("canary", canary);
        }
        return b.build();
    }
}
