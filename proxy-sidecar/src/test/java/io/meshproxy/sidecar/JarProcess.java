package io.meshproxy.sidecar;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@code java -jar proxy-sidecar/target/meshproxy.jar ARGS} in a child JVM, for the integration tests: the
 * java of the running JVM, Netty's leak detector at the build's level, stdout and stderr each drained line
 * by line on its own thread (so the child never blocks on a full pipe) and kept for assertions.
 * {@link #close()} always kills the child: a hanging child cannot outlive its test.
 */
final class JarProcess implements AutoCloseable {
    private final Process process;
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    /** Both streams, interleaved in the order the drain threads saw them. */
    private final List<String> all = new CopyOnWriteArrayList<>();
    private final Thread outDrain;
    private final Thread errDrain;

    private JarProcess(Process process) {
        this.process = process;
        this.outDrain = drain(process.getInputStream(), stdout, "stdout");
        this.errDrain = drain(process.getErrorStream(), stderr, "stderr");
    }

    /** The jar built by {@code package}; failsafe passes its path. */
    static Path jar() {
        String path = System.getProperty("meshproxy.jar");
        if (path == null) {
            throw new IllegalStateException("system property meshproxy.jar is not set: run the *IT through"
                    + " maven-failsafe-plugin (./mvnw verify)");
        }
        Path jar = Path.of(path);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " does not exist: run after package");
        }
        return jar;
    }

    /** Starts {@code java [leak detector] -jar meshproxy.jar args...}. */
    static JarProcess start(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Dio.netty.leakDetection.level=" + System.getProperty("meshproxy.leakLevel", "paranoid"));
        command.add("-jar");
        command.add(jar().toString());
        command.addAll(List.of(args));
        return start(command, Map.of());
    }

    /** Starts {@code command} with {@code env} added to this JVM's environment (less MESHPROXY_LOG_LEVEL). */
    static JarProcess start(List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove(Main.LOG_LEVEL_ENV); // the test chooses
        pb.environment().putAll(env);
        return new JarProcess(pb.start());
    }

    /** bin/meshproxy of this repository; failsafe passes its path. */
    static Path launcher() {
        String path = System.getProperty("meshproxy.launcher");
        if (path == null) {
            throw new IllegalStateException("system property meshproxy.launcher is not set: run the *IT through"
                    + " maven-failsafe-plugin (./mvnw verify)");
        }
        return Path.of(path);
    }

    private Thread drain(InputStream in, List<String> lines, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                    all.add(line);
                }
            } catch (IOException e) {
                // the child is gone
            }
        }, "jar-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Sends SIGTERM. Through {@link ProcessHandle#destroy()}, not {@link Process#destroy()}: the latter also
     * closes this side of the child's stdout and stderr pipes, so everything the child logs while it drains
     * would be lost (and the child's writes would fail).
     */
    void sigterm() {
        if (!process.toHandle().destroy()) {
            throw new AssertionError("cannot send SIGTERM to " + process.pid());
        }
    }

    Process process() {
        return process;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    List<String> stdout() {
        return List.copyOf(stdout);
    }

    List<String> stderr() {
        return List.copyOf(stderr);
    }

    /** Everything the child printed so far, both streams, for failure messages. */
    String output() {
        return String.join("\n", all);
    }

    /** Waits until the child printed a line matching {@code p} (on either stream); fails fast if it exits. */
    String awaitLine(Predicate<String> p, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(20))
                .failFast("the jar exited before printing the line:\n" + output(),
                        () -> !process.isAlive() && all.stream().noneMatch(p))
                .until(() -> all.stream().anyMatch(p));
        return all.stream().filter(p).findFirst().orElseThrow();
    }

    /** Waits for the child to exit and its output to be read; its exit status. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the jar did not exit within " + timeout + ":\n" + output());
        }
        outDrain.join(10_000);
        errDrain.join(10_000);
        return process.exitValue();
    }

    /** Kills the child if it still runs (SIGKILL) and waits for it. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code n} distinct ports that were free a moment ago: bound to 0 together, then released. */
    static int[] freePorts(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // released anyway
                }
            }
        }
    }
}
