package io.meshproxy.sidecar;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar with configuration files: {@code validate -c} reports every error as
 * {@code FILE:LINE:COLUMN: message} with exit status 1, or one OK line with 0; {@code run -c} refuses invalid
 * files the same way, and serves valid ones, reloads them on change, and drains on SIGTERM.
 */
class ConfigFilesJarIT {
    private static final Duration EXIT = Duration.ofSeconds(60);

    /**
     * The demo's Istio YAML with a typo: {@code subst} for {@code subset} in a route destination; its
     * {@code spec.identity} names a workload certificate issued into {@code dir}.
     */
    private static String brokenYaml(Path dir) throws Exception {
        Path certs = io.meshproxy.tls.DevCa.create("cluster.local").workload("default", "bookinfo-reviews").issue()
                .writeTo(dir);
        return DemoMesh.fill(DemoMesh.template(), java.util.Map.of("ADMIN_PORT", 0, "OUTBOUND_PORT", 0,
                "INBOUND_PORT", 19080, "REVIEWS_V1_PORT", 19081, "REVIEWS_V2_PORT", 19082, "CERT_DIR", certs))
                .replace("- {destination: {host: reviews, subset: v2}, weight: 10}",
                        "- {destination: {host: reviews, subst: v2}, weight: 10}");
    }

    /** {@code FILE:LINE:COLUMN} of the first {@code needle} in {@code text}, 1-based, as the loader reports it. */
    private static String placeOf(Path file, String text, String needle) {
        int at = text.indexOf(needle);
        assertTrue(at >= 0, needle);
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < at; i++) {
            if (text.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return file + ":" + line + ":" + (at - lineStart + 1);
    }

    @Test
    void validateReportsEveryErrorWithItsPlaceAndExits1(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mesh.yaml");
        String text = brokenYaml(dir);
        Files.writeString(file, text);
        try (JarProcess jar = JarProcess.start("validate", "-c", file.toString())) {
            assertEquals(1, jar.awaitExit(EXIT), jar.output());
            assertEquals(List.of(placeOf(file, text, "subst: v2")
                    + ": unknown field 'subst' in 'destination' (did you mean 'subset'?)"), jar.stdout());
            assertEquals(List.of("1 error"), jar.stderr());
        }
    }

    @Test
    void validateSaysOkAndExits0OnAValidFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, brokenYaml(dir).replace("subst: v2", "subset: v2"));
        try (JarProcess jar = JarProcess.start("validate", "-c", file.toString())) {
            assertEquals(0, jar.awaitExit(EXIT), jar.output());
            assertEquals(1, jar.stdout().size(), jar.output());
            assertTrue(jar.stdout().get(0).matches(
                    "OK: 1 file, version [0-9a-f]{12}: listeners outbound, inbound; \\d+ clusters"), jar.output());
            assertEquals(List.of(), jar.stderr());
        }
    }

    @Test
    void runRefusesInvalidFilesWithTheSameLinesOnStderr(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mesh.yaml");
        String text = brokenYaml(dir);
        Files.writeString(file, text);
        try (JarProcess jar = JarProcess.start("run", "-c", file.toString())) {
            assertEquals(1, jar.awaitExit(EXIT), jar.output());
            assertEquals(List.of(placeOf(file, text, "subst: v2")
                    + ": unknown field 'subst' in 'destination' (did you mean 'subset'?)"), jar.stderr());
            assertEquals(List.of(), jar.stdout());
        }
    }

    @Test
    void runServesReloadsAndDrainsOnSigterm(@TempDir Path dir) throws Exception {
        int[] ports = JarProcess.freePorts(2);
        int admin = ports[0];
        int outbound = ports[1];
        try (TestUpstream v1 = TestUpstream.start("v1"); TestUpstream v2 = TestUpstream.start("v2")) {
            Files.writeString(dir.resolve("proxy.yaml"), SidecarTest.PROXY.formatted(v1.port())
                    .replace("port: 0}", "port: " + admin + "}")
                    .replace("port: 0, direction: OUTBOUND", "port: " + outbound + ", direction: OUTBOUND"));
            Path reviews = dir.resolve("reviews.yaml");
            Files.writeString(reviews, SidecarTest.reviews(v1.port(), v2.port(), SidecarTest.CANARY_THEN_V1));
            try (JarProcess jar = JarProcess.start("--log-level", "debug", "run", "-c", dir.toString())) {
                HttpClient http = HttpClient.newHttpClient();
                await().atMost(EXIT).pollInterval(Duration.ofMillis(50))
                        .failFast("the jar exited:\n" + jar.output(), () -> !jar.isAlive())
                        .ignoreExceptions()
                        .until(() -> http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/ready"))
                                .build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
                assertEquals("v1", SidecarTest.get(outbound, "reviews", "").headers().get("x-upstream"));
                assertEquals("v2", SidecarTest.get(outbound, "reviews", "canary: true\r\n").headers().get("x-upstream"));
                String version = jar.awaitLine(l -> l.contains("INFO Sidecar - configuration "), EXIT)
                        .replaceAll(".* configuration ([0-9a-f]{12}) .*", "$1");

                SidecarTest.writeAtomically(reviews, SidecarTest.reviews(v1.port(), v2.port(), SidecarTest.ALL_TO_V2));
                jar.awaitLine(l -> l.contains("INFO ConfigWatcher - configuration ") && l.contains(" applied from ")
                        && !l.contains(version), EXIT);
                RawHttp.Response r = SidecarTest.get(outbound, "reviews", "");
                assertEquals("v2", r.headers().get("x-upstream"), "the change is in force");

                jar.sigterm();
                assertEquals(143, jar.awaitExit(EXIT), jar.output());
                String out = jar.output();
                assertTrue(out.contains("INFO Sidecar - drained in "), out);
                assertTrue(out.contains("INFO Sidecar - stopped"), out);
                assertTrue(out.contains(" DEBUG "), "--log-level debug took effect:\n" + out);
                assertFalse(out.contains("LEAK:"), out);
            }
        }
    }
}
