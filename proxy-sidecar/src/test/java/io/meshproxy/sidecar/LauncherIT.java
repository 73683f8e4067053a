package io.meshproxy.sidecar;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * bin/meshproxy: finds the jar next to the repository (or MESHPROXY_JAR), starts it with the footprint flags,
 * lets JAVA_OPTS override them, passes the arguments through, and execs the JVM so SIGTERM reaches it.
 */
class LauncherIT {
    private static final Duration EXIT = Duration.ofSeconds(60);

    /** The launcher with this JVM's JDK as JAVA_HOME, the jar under test, and {@code env}. */
    private static JarProcess launch(Map<String, String> env, String... args) throws Exception {
        Path launcher = JarProcess.launcher();
        assertTrue(Files.isExecutable(launcher), launcher + " is executable");
        List<String> command = new java.util.ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("JAVA_HOME", System.getProperty("java.home"));
        all.putIfAbsent("MESHPROXY_JAR", JarProcess.jar().toString());
        all.putIfAbsent("JAVA_OPTS", "-Dio.netty.leakDetection.level=" + System.getProperty("meshproxy.leakLevel", "paranoid"));
        return JarProcess.start(command, all);
    }

    @Test
    void startsTheJarWithTheFootprintFlagsAndJavaOptsOverrideThem() throws Exception {
        try (JarProcess p = launch(Map.of("JAVA_OPTS", "-XX:+PrintCommandLineFlags -Xmx96m"), "--version")) {
            assertEquals(0, p.awaitExit(EXIT), p.output());
            String flags = p.stdout().get(0);
            for (String f : new String[] {"-XX:+UseSerialGC", "-XX:InitialHeapSize=8388608", "-XX:+ExitOnOutOfMemoryError",
                    "-XX:MaxMetaspaceSize=67108864", "-XX:ReservedCodeCacheSize=33554432",
                    "-XX:MaxDirectMemorySize=67108864"}) {
                assertTrue(flags.contains(f), f + " in " + flags);
            }
            assertTrue(flags.contains("-XX:MaxHeapSize=100663296"), "JAVA_OPTS -Xmx96m wins over -Xmx64m: " + flags);
            assertTrue(p.stdout().get(1).startsWith("meshproxy "), p.output());
        }
    }

    @Test
    void passesArgumentsThroughAndExitStatusesBack() throws Exception {
        try (JarProcess p = launch(Map.of(), "validate", "-c", "/nonexistent/mesh.yaml")) {
            assertEquals(1, p.awaitExit(EXIT), p.output());
            assertEquals(List.of("/nonexistent/mesh.yaml:1:1: no such file or directory"), p.stdout());
        }
        try (JarProcess p = launch(Map.of(Main.LOG_LEVEL_ENV, "warn"), "--once", "--admin-port", "0",
                "--outbound-port", "0", "--inbound-port", "0")) {
            assertEquals(0, p.awaitExit(EXIT), p.output());
            assertTrue(p.stdout().contains("10 requests with canary: true:         {reviews-v2=10}"), p.output());
            assertEquals(List.of(), p.stderr(), "MESHPROXY_LOG_LEVEL=warn: no info lines");
        }
    }

    @Test
    void saysWhereItLookedWhenThereIsNoJar() throws Exception {
        try (JarProcess p = launch(Map.of("MESHPROXY_JAR", "/nonexistent/meshproxy.jar"), "--version")) {
            assertEquals(1, p.awaitExit(EXIT), p.output());
            assertEquals("meshproxy: no jar at /nonexistent/meshproxy.jar", p.stderr().get(0));
        }
    }

    @Test
    void sigtermToTheLauncherDrainsTheJvm() throws Exception {
        int[] ports = JarProcess.freePorts(3);
        try (JarProcess p = launch(Map.of(), "--admin-port", "" + ports[0], "--outbound-port", "" + ports[1],
                "--inbound-port", "" + ports[2])) {
            HttpClient http = HttpClient.newHttpClient();
            await().atMost(EXIT).pollInterval(Duration.ofMillis(50))
                    .failFast("the launcher exited:\n" + p.output(), () -> !p.isAlive())
                    .ignoreExceptions()
                    .until(() -> http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports[0] + "/ready"))
                            .build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
            // exec: the launcher's PID is the JVM's, no shell in between to swallow the signal.
            assertTrue(p.process().toHandle().info().command().orElse("").endsWith("/java"),
                    p.process().toHandle().info().toString());
            p.sigterm();
            assertEquals(143, p.awaitExit(EXIT), p.output());
            assertTrue(p.output().contains("INFO Sidecar - drained in "), p.output());
            assertTrue(p.output().contains("INFO Sidecar - stopped"), p.output());
        }
    }
}
