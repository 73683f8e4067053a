package io.meshproxy.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.ProxyMain;
import io.meshproxy.core.testing.TestUpstream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 1 GiB up and 1 GiB down through a meshproxy running in its own JVM with a 64 MiB heap and 128 MiB of
 * direct memory: the bytes must arrive identical (SHA-256), and the proxy must stream them with backpressure
 * rather than buffer them — a proxy that buffered would run out of heap or direct memory long before 1 GiB.
 * The upstream ({@link TestUpstream}) and the client (the JDK {@code HttpClient}) run in the test JVM; the
 * child's heap is sampled through its admin {@code /server_info} while the bytes flow.
 *
 * <p>The child runs with paranoid leak detection, like every other test, and its stderr must carry no
 * {@code LEAK:} report.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class LargeTransferTest {
    private static final long SIZE = 1L << 30;
    private static final long HEAP_LIMIT = 64L << 20;
    /**
     * Netty's direct memory in use (when its counter is active): streaming needs a few MiB; a proxy that kept
     * reading while it could not write would pile up far more (a broken request-body writer measured 85 MiB
     * on the upload), often without reaching the 128 MiB that makes the child fail outright.
     */
    private static final long DIRECT_LIMIT = 32L << 20;
    private static final Duration TRANSFER_TIMEOUT = Duration.ofMinutes(4);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String expectedSha256;

    @BeforeAll
    static void digestOfTheExpectedBytes() {
        expectedSha256 = TestUpstream.patternSha256(SIZE);
    }

    @Test
    void gigabyteBothWaysThroughHttp1Upstream() throws Exception {
        transferBothWays(UpstreamProtocol.HTTP1, HttpClient.Version.HTTP_1_1);
    }

    @Test
    void gigabyteBothWaysThroughHttp2Upstream() throws Exception {
        // HTTP/1.1 downstream, HTTP/2 upstream: the upstream hop is bound by HTTP/2 flow control both ways.
        transferBothWays(UpstreamProtocol.HTTP2, HttpClient.Version.HTTP_1_1);
    }

    @Test
    void gigabyteBothWaysOverHttp2EndToEnd() throws Exception {
        // HTTP/2 on both hops: flow control on each, the proxy joining two sets of windows.
        transferBothWays(UpstreamProtocol.HTTP2, HttpClient.Version.HTTP_2);
    }

    private void transferBothWays(UpstreamProtocol protocol, HttpClient.Version clientVersion) throws Exception {
        try (TestUpstream upstream = TestUpstream.start("big");
             ChildProxy child = ChildProxy.start(upstream.port(), protocol)) {
            try {
                transferBothWays(child, protocol, clientVersion);
            } catch (IOException e) {
                throw new AssertionError("transfer failed; proxy " + (child.process.isAlive() ? "alive" : "dead")
                        + ", its stderr:\n" + child.stderr(), e);
            }
        }
    }

    private void transferBothWays(ChildProxy child, UpstreamProtocol protocol, HttpClient.Version clientVersion)
            throws Exception {
        String hops = (clientVersion == HttpClient.Version.HTTP_2 ? "h2" : "h1") + " -> proxy -> "
                + (protocol == UpstreamProtocol.HTTP2 ? "h2" : "h1");
        HttpClient client = HttpClient.newBuilder().version(clientVersion).build();
        String base = "http://127.0.0.1:" + child.listenerPort;
        if (clientVersion == HttpClient.Version.HTTP_2) {
            // The JDK client reaches h2c by upgrading a first, bodyless request; the big ones then use HTTP/2.
            HttpResponse<String> first = client.send(HttpRequest.newBuilder(URI.create(base + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, first.version(), "downstream connection should be HTTP/2");
        }

        // Upload: 1 GiB generated as it is sent, with a Content-Length.
        long t0 = System.nanoTime();
        HttpResponse<String> up;
        try (HeapSampler heap = HeapSampler.start(child.adminPort)) {
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/sink"))
                    .timeout(TRANSFER_TIMEOUT)
                    .POST(HttpRequest.BodyPublishers.fromPublisher(
                            HttpRequest.BodyPublishers.ofInputStream(() -> new PatternInputStream(SIZE)), SIZE))
                    .build();
            up = client.send(req, HttpResponse.BodyHandlers.ofString());
            heap.report("upload " + hops, System.nanoTime() - t0);
            heap.assertBounded();
        }
        assertEquals(200, up.statusCode(), up.body());
        assertEquals(clientVersion, up.version());
        assertEquals(SIZE + " " + expectedSha256, up.body().trim(), "the upstream received other bytes");
        assertTrue(child.process.isAlive(), "proxy died during the upload:\n" + child.stderr());

        // Download: digested as it arrives, never held whole.
        t0 = System.nanoTime();
        try (HeapSampler heap = HeapSampler.start(child.adminPort)) {
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/bytes/" + SIZE))
                    .timeout(TRANSFER_TIMEOUT).build();
            HttpResponse<InputStream> down = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, down.statusCode());
            MessageDigest md = TestUpstream.sha256();
            long count = 0;
            try (InputStream in = down.body()) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    md.update(buf, 0, n);
                    count += n;
                }
            }
            heap.report("download " + hops, System.nanoTime() - t0);
            assertEquals(SIZE, count, "downloaded byte count");
            assertEquals(expectedSha256, HexFormat.of().formatHex(md.digest()), "the client received other bytes");
            heap.assertBounded();
        }
        assertTrue(child.process.isAlive(), "proxy died during the download:\n" + child.stderr());

        child.stop();
        String stderr = child.stderr();
        assertFalse(stderr.contains("LEAK:"), "the proxy leaked Netty buffers:\n" + stderr);
        assertFalse(stderr.contains("OutOfMemoryError"), "the proxy ran out of memory:\n" + stderr);
    }

    /** The proxy in a child JVM: 64 MiB heap, 128 MiB direct memory, paranoid leak detection. */
    private static final class ChildProxy implements AutoCloseable {
        final Process process;
        final Path stderrFile;
        final BufferedReader stdout;
        final int listenerPort;
        final int adminPort;

        private ChildProxy(Process process, Path stderrFile, BufferedReader stdout, int listenerPort, int adminPort) {
            this.process = process;
            this.stderrFile = stderrFile;
            this.stdout = stdout;
            this.listenerPort = listenerPort;
            this.adminPort = adminPort;
        }

        static ChildProxy start(int upstreamPort, UpstreamProtocol protocol) throws IOException {
            Path stderrFile = Files.createTempFile("meshproxy-child", ".stderr");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(List.of(java,
                    "-Xmx64m",
                    "-XX:MaxDirectMemorySize=128m",
                    "-XX:+ExitOnOutOfMemoryError",
                    "-Dio.netty.leakDetection.level=paranoid",
                    "-cp", System.getProperty("java.class.path"),
                    ProxyMain.class.getName(), Integer.toString(upstreamPort), protocol.name()));
            Process p = new ProcessBuilder(cmd).redirectError(stderrFile.toFile()).start();
            ChildProxy child = null;
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                String line = out.readLine();
                assertNotNull(line, () -> "proxy exited before printing its ports:\n" + read(stderrFile));
                String[] parts = line.trim().split(" ");
                assertEquals("ports", parts[0], line);
                child = new ChildProxy(p, stderrFile, out, Integer.parseInt(parts[1]), Integer.parseInt(parts[2]));
                return child;
            } finally {
                if (child == null) {
                    p.destroyForcibly();
                }
            }
        }

        /** Closes stdin: the proxy shuts down, provokes leak reports, prints "stopped" and exits 0. */
        void stop() throws Exception {
            process.getOutputStream().close();
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "proxy did not stop");
            String rest = stdout.lines().reduce("", (a, b) -> a + b + "\n");
            assertEquals(0, process.exitValue(), () -> "proxy exit status; stderr:\n" + stderr());
            assertTrue(rest.contains("stopped"), rest);
        }

        String stderr() {
            return read(stderrFile);
        }

        private static String read(Path f) {
            try {
                return Files.readString(f);
            } catch (IOException e) {
                return "(stderr unreadable: " + e + ")";
            }
        }

        @Override
        public void close() throws IOException {
            if (process.isAlive()) {
                process.destroyForcibly();
                try {
                    process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Files.deleteIfExists(stderrFile);
        }
    }

    /** Samples the child's {@code /server_info} every 200 ms and keeps the largest heap and direct figures. */
    private static final class HeapSampler implements AutoCloseable {
        final AtomicLong maxHeap = new AtomicLong();
        final AtomicLong maxDirect = new AtomicLong(-1);
        final AtomicInteger samples = new AtomicInteger();
        final AtomicInteger failures = new AtomicInteger();
        final java.util.concurrent.atomic.AtomicReference<String> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
        final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "heap-sampler");
            t.setDaemon(true);
            return t;
        });
        final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        final HttpRequest info;

        private HeapSampler(int adminPort) {
            info = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/server_info"))
                    .timeout(Duration.ofSeconds(5)).build();
        }

        private void sample() {
            try {
                HttpResponse<String> r = client.send(info, HttpResponse.BodyHandlers.ofString());
                JsonNode mem = JSON.readTree(r.body()).get("memory");
                maxHeap.accumulateAndGet(mem.get("heap_used_bytes").asLong(), Math::max);
                maxDirect.accumulateAndGet(mem.get("direct_used_bytes").asLong(), Math::max);
                samples.incrementAndGet();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                failures.incrementAndGet();
                firstFailure.compareAndSet(null, e.toString());
            }
        }

        static HeapSampler start(int adminPort) {
            HeapSampler s = new HeapSampler(adminPort);
            s.timer.scheduleWithFixedDelay(s::sample, 0, 200, TimeUnit.MILLISECONDS);
            return s;
        }

        void report(String what, long nanos) {
            stopSampling();
            System.out.printf("%s: %d MiB in %.1f s; proxy heap max %.1f MiB, direct max %s over %d samples (%d failed%s)%n",
                    what, SIZE >> 20, nanos / 1e9, maxHeap.get() / 1048576.0,
                    maxDirect.get() < 0 ? "n/a" : String.format("%.1f MiB", maxDirect.get() / 1048576.0),
                    samples.get(), failures.get(), firstFailure.get() == null ? "" : ": " + firstFailure.get());
        }

        void assertBounded() {
            stopSampling();
            assertTrue(samples.get() >= 3, "too few heap samples to judge: " + samples.get()
                    + " (failures " + failures.get() + ")");
            assertTrue(maxHeap.get() < HEAP_LIMIT, "proxy heap peaked at " + maxHeap.get() + " bytes");
            assertTrue(maxDirect.get() < DIRECT_LIMIT, "proxy direct memory peaked at " + maxDirect.get() + " bytes");
        }

        private void stopSampling() {
            if (!timer.isShutdown()) {
                timer.shutdownNow();
                try {
                    timer.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void close() {
            stopSampling();
        }
    }

    /** {@code size} pattern bytes, generated on demand. */
    private static final class PatternInputStream extends InputStream {
        private final long size;
        private long pos;

        PatternInputStream(long size) {
            this.size = size;
        }

        @Override
        public int read() {
            return pos < size ? TestUpstream.pattern(pos++) & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - pos);
            for (int i = 0; i < n; i++) {
                b[off + i] = TestUpstream.pattern(pos + i);
            }
            pos += n;
            return n;
        }
    }
}
