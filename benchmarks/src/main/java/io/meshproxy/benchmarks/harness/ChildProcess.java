package io.meshproxy.benchmarks.harness;

import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A proxy under test run as a child process (a meshproxy sidecar, nginx, HAProxy): its output goes to a log
 * file, and it is stopped with its descendants however the run ends — SIGTERM, then SIGKILL after 10 s, also
 * from a shutdown hook if this JVM is interrupted.
 */
public final class ChildProcess implements AutoCloseable {
    private static final long STOP_TIMEOUT_SECONDS = 10;

    private final Process process;
    private final Path log;
    private final Thread hook;

    private ChildProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
        this.hook = new Thread(this::kill, "harness-child-killer");
    }

    /** Starts {@code command}, stdout and stderr to {@code log}, stdin from /dev/null. */
    public static ChildProcess start(List<String> command, Path log) throws IOException {
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())) // a file never blocks the child
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        ChildProcess c = new ChildProcess(p, log);
        Runtime.getRuntime().addShutdownHook(c.hook);
        return c;
    }

    public Process process() {
        return process;
    }

    public Path log() {
        return log;
    }

    /** The child, or its first {@code java} descendant when the child itself is not a JVM (a script, taskset). */
    public ProcessHandle measured() {
        ProcessHandle root = process.toHandle();
        if (isJava(root)) {
            return root;
        }
        Optional<ProcessHandle> jvm = root.descendants().filter(ChildProcess::isJava).findFirst();
        return jvm.orElse(root);
    }

    /** The child and its descendants (nginx's master and workers), as they are now. */
    public List<ProcessHandle> tree() {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(process.toHandle());
        all.addAll(process.descendants().toList());
        return all;
    }

    private static boolean isJava(ProcessHandle h) {
        return h.info().command().map(c -> c.equals("java") || c.endsWith("/java")).orElse(false);
    }

    /**
     * Null once {@code GET http://127.0.0.1:port/path} answers 200; otherwise (the child exited, or the
     * timeout passed) why not.
     */
    public String awaitHttp200(int port, String path, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                return "exited with status " + process.exitValue() + " before 127.0.0.1:" + port + path
                        + " answered";
            }
            try {
                HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + path).openConnection();
                c.setConnectTimeout(500);
                c.setReadTimeout(1000);
                try {
                    int status = c.getResponseCode();
                    if (status == 200) {
                        return null;
                    }
                    last = "status " + status;
                } finally {
                    c.disconnect();
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(20); // polling a child process's port: there is nothing to be notified by
        }
        return "127.0.0.1:" + port + path + " did not answer 200 within " + timeout.toSeconds() + " s (last: "
                + last + ")";
    }

    /** SIGTERM to the child and its descendants; SIGKILL to whatever is left after 10 s. */
    @Override
    public void close() {
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down
        }
    }

    private void kill() {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        all.add(process.toHandle());
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_TIMEOUT_SECONDS);
        for (ProcessHandle h : all) {
            long left = deadline - System.nanoTime();
            try {
                h.onExit().get(Math.max(0, left), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                // still alive: forced below
            }
        }
        for (ProcessHandle h : all) {
            if (h.isAlive()) {
                System.err.println("PID " + h.pid() + " still alive " + STOP_TIMEOUT_SECONDS + " s after SIGTERM: SIGKILL");
                h.destroyForcibly();
            }
        }
    }
}
