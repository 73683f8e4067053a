package io.meshproxy.benchmarks;

import io.meshproxy.config.ConfigLoader;
import io.meshproxy.config.ConfigWatcher;
import io.meshproxy.config.LoadedConfig;
import io.meshproxy.core.MeshProxy;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * How long a configuration file change takes to be in force, and to be served.
 *
 * <p>Two fast upstreams ({@code v1}, {@code v2}, each naming itself in {@code x-upstream}), a config directory
 * with a Proxy bootstrap, a ServiceEntry and a DestinationRule for {@code reviews} with subsets v1 and v2, and a
 * VirtualService splitting it 100/0. A {@link MeshProxy} runs it and a {@link ConfigWatcher} watches the
 * directory with {@code apply = proxy.update}, as the sidecar's {@code run} command does. One client thread
 * sends {@code GET /reviews} with {@code Host: reviews} back to back on one keep-alive connection through the
 * outbound listener.
 *
 * <p>Each iteration flips the VirtualService's weights (100/0 to 0/100 and back) by an atomic replace: the new
 * file is written in a staging directory beside the watched one (same file system, not watched, so writing it
 * raises no event), then {@code Files.move(.., ATOMIC_MOVE)} renames it over the old file. {@code t0} is taken
 * just before the move. Measured from {@code t0}:
 * <ul>
 *   <li><b>applied</b>: when {@code proxy.versionInfo()} shows the new version, polled in a tight loop
 *       ({@link Thread#onSpinWait()}) by the main thread;</li>
 *   <li><b>served</b>: when the client receives the first response from the new configuration's upstream
 *       to a request it sent at or after {@code t0}.</li>
 * </ul>
 * A third time breaks {@code applied} down: <b>loaded</b>, when the watcher calls {@code apply} (the event was
 * seen, the quiet period passed, the files were read, validated and translated); the rest is
 * {@code MeshProxy.update}. All include {@link ConfigWatcher}'s quiet period (10 ms, by design: it lets an edit of several files settle
 * before they are read). A response from the old upstream to a request sent after {@code applied} would be a
 * bug (the swap is atomic); they are counted and reported.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.meshproxy.benchmarks.ReloadLatency [--iterations 50]
 *     [--warmup 5] [--pause-ms 100] [--out benchmarks/results/reload-latency.md]</pre>
 */
public final class ReloadLatency {
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final String PATH = "/reviews";
    private static final String AUTHORITY = "reviews";

    private ReloadLatency() {}

    static final String PROXY = """
            apiVersion: meshproxy.io/v1alpha1
            kind: Proxy
            metadata: {name: reload-latency}
            spec:
              admin: {port: 0}
              listeners:
              - {name: outbound, port: 0, direction: OUTBOUND}
            """;

    static String reviews(int v1Port, int v2Port) {
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
                """.formatted(v1Port, v2Port);
    }

    static String virtualService(int w1, int w2) {
        return """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: reviews}
                spec:
                  hosts: [reviews]
                  http:
                  - route:
                    - {destination: {host: reviews, subset: v1}, weight: %d}
                    - {destination: {host: reviews, subset: v2}, weight: %d}
                """.formatted(w1, w2);
    }

    /** What the client thread watches for in one iteration. */
    private static final class Watch {
        final String upstream;
        /** Set just before the move; the client only counts requests sent at or after it. */
        volatile long t0 = Long.MAX_VALUE;
        /** When the watcher called apply with the new configuration. */
        volatile long loadedAt;
        /** When the main thread saw the new version in force. */
        volatile long appliedAt = Long.MAX_VALUE;
        /** When the client received the first response from {@link #upstream} to a request sent at or after t0. */
        final AtomicLong servedAt = new AtomicLong();

        Watch(String upstream) {
            this.upstream = upstream;
        }
    }

    /** The client loop: one keep-alive connection, one request at a time, back to back. */
    private static final class Client implements Runnable {
        final KeepAliveClient http;
        volatile boolean running = true;
        volatile Watch watch;
        volatile Throwable failure;
        final AtomicLong requests = new AtomicLong();
        final AtomicLong notOk = new AtomicLong();
        /** Responses from the old upstream to requests sent after the new version was seen in force. */
        final AtomicLong staleAfterApplied = new AtomicLong();

        Client(KeepAliveClient http) {
            this.http = http;
        }

        @Override
        public void run() {
            try {
                while (running) {
                    long sent = System.nanoTime();
                    KeepAliveClient.Response r = http.get(PATH).get(5, TimeUnit.SECONDS);
                    long received = System.nanoTime();
                    requests.incrementAndGet();
                    if (r.status() != 200) {
                        notOk.incrementAndGet();
                        continue;
                    }
                    Watch w = watch;
                    if (w == null || sent - w.t0 < 0) {
                        continue;
                    }
                    if (w.upstream.equals(r.upstream())) {
                        w.servedAt.compareAndSet(0, received);
                    } else if (sent - w.appliedAt > 0) {
                        staleAfterApplied.incrementAndGet();
                    }
                }
            } catch (Throwable t) {
                failure = t;
            }
        }
    }

    public static void main(String[] args) throws Exception {
        int iterations = 50;
        int warmup = 5;
        long pauseMillis = 100;
        Path out = Path.of("benchmarks/results/reload-latency.md");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--iterations" -> iterations = positive(args, ++i);
                case "--warmup" -> warmup = Integer.parseInt(value(args, ++i));
                case "--pause-ms" -> pauseMillis = Long.parseLong(value(args, ++i));
                case "--out" -> out = Path.of(value(args, ++i));
                case "-h", "--help" -> {
                    System.out.println("usage: java -cp benchmarks.jar io.meshproxy.benchmarks.ReloadLatency"
                            + " [--iterations N (50)] [--warmup N (5, not counted)] [--pause-ms MS (100, between flips)]"
                            + " [--out FILE (benchmarks/results/reload-latency.md)]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "' (try --help)");
            }
        }
        if (warmup < 0 || pauseMillis < 0) {
            throw new IllegalArgumentException("--warmup and --pause-ms must not be negative");
        }
        String loadAtStart = RunEnvironment.loadAverage();
        String command = "java -cp benchmarks/target/benchmarks.jar io.meshproxy.benchmarks.ReloadLatency"
                + (args.length == 0 ? "" : " " + String.join(" ", args));
        Result result = run(iterations, warmup, pauseMillis);
        String report = report(result, iterations, warmup, pauseMillis, command, loadAtStart);
        System.out.println();
        System.out.println(report);
        RunEnvironment.write(out, report);
        System.out.println("written to " + out);
    }

    record Result(long[] loadedNanos, long[] appliedNanos, long[] servedNanos, long coldAppliedNanos, long coldServedNanos,
            long requests, long notOk, long staleAfterApplied, long watcherApplied, long watcherRejected) {}

    static Result run(int iterations, int warmup, long pauseMillis) throws Exception {
        Path dir = Files.createTempDirectory("reload-latency");
        Path configDir = Files.createDirectories(dir.resolve("config"));
        Path staging = Files.createDirectories(dir.resolve("staging"));
        Path vsFile = configDir.resolve("reviews-vs.yaml");
        EventLoopGroup clientGroup = LoopbackTransport.newGroup(1, "reload-client");
        try (FixedResponseUpstream v1 = new FixedResponseUpstream(16, "v1");
                FixedResponseUpstream v2 = new FixedResponseUpstream(16, "v2")) {
            Files.writeString(configDir.resolve("proxy.yaml"), PROXY);
            Files.writeString(configDir.resolve("reviews.yaml"), reviews(v1.port(), v2.port()));
            Files.writeString(vsFile, virtualService(100, 0));
            LoadedConfig first = ConfigLoader.load(configDir);
            MeshProxy proxy = MeshProxy.builder().config(first.config()).version(first.version()).build().start();
            ConfigWatcher watcher = null;
            Client client = null;
            Thread clientThread = null;
            try {
                AtomicReference<Watch> current = new AtomicReference<>();
                watcher = ConfigWatcher.start(List.of(configDir), first.version(), c -> {
                    Watch w = current.get();
                    if (w != null) {
                        w.loadedAt = System.nanoTime();
                    }
                    proxy.update(c.config(), c.version());
                });
                client = new Client(new KeepAliveClient(clientGroup, proxy.listenerPort("outbound"), AUTHORITY));
                clientThread = new Thread(client, "reload-client-loop");
                clientThread.setDaemon(true);
                clientThread.start();
                System.out.printf("proxy %s, upstreams v1 :%d, v2 :%d, config in %s; %d warm-up + %d measured flips%n",
                        LoopbackTransport.name(), v1.port(), v2.port(), configDir, warmup, iterations);

                long[] loaded = new long[iterations];
                long[] applied = new long[iterations];
                long[] served = new long[iterations];
                long coldApplied = -1;
                long coldServed = -1;
                String[] versions = {first.version(), null}; // [100/0, 0/100], the second learnt at the first flip
                for (int i = 0; i < warmup + iterations; i++) {
                    Thread.sleep(pauseMillis);
                    int to = (i % 2 == 0) ? 1 : 0; // 0: 100/0 (v1), 1: 0/100 (v2)
                    Watch w = new Watch(to == 1 ? "v2" : "v1");
                    String before = proxy.versionInfo();
                    Path tmp = staging.resolve(vsFile.getFileName());
                    Files.writeString(tmp, to == 1 ? virtualService(0, 100) : virtualService(100, 0));
                    client.watch = w;
                    current.set(w);
                    long t0 = System.nanoTime();
                    w.t0 = t0;
                    Files.move(tmp, vsFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    String now;
                    while ((now = proxy.versionInfo()).equals(before)) {
                        if (System.nanoTime() - t0 > TIMEOUT_NANOS) {
                            throw new IllegalStateException("flip " + i + ": version " + before
                                    + " still in force after 5 s (watcher applied " + watcher.appliedCount()
                                    + ", rejected " + watcher.rejectedCount() + " " + watcher.lastErrors() + ")");
                        }
                        Thread.onSpinWait();
                    }
                    long appliedAt = System.nanoTime();
                    w.appliedAt = appliedAt;
                    if (versions[to] == null) {
                        versions[to] = now;
                    } else if (!versions[to].equals(now)) {
                        throw new IllegalStateException("flip " + i + ": version " + now + " in force, expected "
                                + versions[to]);
                    }
                    // The client thread stamps its own receive time; this thread only waits for it.
                    while (w.servedAt.get() == 0) {
                        if (System.nanoTime() - t0 > TIMEOUT_NANOS) {
                            throw new IllegalStateException("flip " + i + ": no response from " + w.upstream
                                    + " 5 s after the change" + (client.failure == null ? "" : ": " + client.failure));
                        }
                        LockSupport.parkNanos(50_000);
                    }
                    long servedAt = w.servedAt.get();
                    if (i == 0) {
                        coldApplied = appliedAt - t0;
                        coldServed = servedAt - t0;
                    }
                    if (i >= warmup) {
                        loaded[i - warmup] = w.loadedAt - t0;
                        applied[i - warmup] = appliedAt - t0;
                        served[i - warmup] = servedAt - t0;
                    }
                }
                client.running = false;
                clientThread.join(10_000);
                if (client.failure != null) {
                    throw new IllegalStateException("client failed", client.failure);
                }
                return new Result(loaded, applied, served, coldApplied, coldServed, client.requests.get(), client.notOk.get(),
                        client.staleAfterApplied.get(), watcher.appliedCount(), watcher.rejectedCount());
            } finally {
                if (client != null) {
                    client.running = false;
                    if (clientThread != null) {
                        clientThread.join(10_000);
                    }
                    client.http.close();
                }
                if (watcher != null) {
                    watcher.close();
                }
                proxy.close();
            }
        } finally {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            deleteTree(dir);
        }
    }

    static String report(Result r, int iterations, int warmup, long pauseMillis, String command, String loadAtStart) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Reload latency: config file written → in force → served\n\n");
        sb.append("`").append(command).append("`\n\n");
        RunEnvironment.describe(loadAtStart).forEach(l -> sb.append(l).append('\n'));
        sb.append("- ").append(iterations).append(" measured flips of a VirtualService's weights (100/0 ↔ 0/100) by an")
                .append(" atomic rename, after ").append(warmup).append(" warm-up flips; ").append(pauseMillis)
                .append(" ms pause between flips; the watcher's quiet period (10 ms) is included\n");
        sb.append("- transport: ").append(LoopbackTransport.name()).append("; client: one keep-alive connection,")
                .append(" requests back to back (").append(r.requests()).append(" requests, ").append(r.notOk())
                .append(" not 200)\n\n");
        sb.append("| ms from the rename | min | p50 | p90 | p99 | max |\n");
        sb.append("|---|---|---|---|---|---|\n");
        row(sb, "write → new config read and validated (watcher calls apply)", r.loadedNanos());
        row(sb, "**write → applied** (`versionInfo()` changed)", r.appliedNanos());
        row(sb, "**write → first request served** by the new upstream", r.servedNanos());
        sb.append('\n');
        sb.append("Percentiles by nearest rank over the ").append(iterations).append(" samples (with 50 samples, p99 is")
                .append(" the maximum). ");
        if (r.coldAppliedNanos() >= 0) {
            sb.append("The first (cold) flip, not counted: applied ").append(ms(r.coldAppliedNanos()))
                    .append(" ms, served ").append(ms(r.coldServedNanos())).append(" ms.\n\n");
        }
        sb.append("Checks: the watcher applied ").append(r.watcherApplied()).append(" changes (")
                .append(warmup + iterations).append(" flips) and rejected ").append(r.watcherRejected())
                .append("; responses from the old upstream to requests sent after the new version was seen in force: ")
                .append(r.staleAfterApplied()).append(".\n\n");
        sb.append("Samples in order (ms), applied: ").append(list(r.appliedNanos())).append("\n\n");
        sb.append("Samples in order (ms), served: ").append(list(r.servedNanos())).append('\n');
        return sb.toString();
    }

    private static void row(StringBuilder sb, String name, long[] samples) {
        long[] s = samples.clone();
        Arrays.sort(s);
        sb.append("| ").append(name).append(" | ").append(ms(s[0])).append(" | ").append(ms(percentile(s, 50)))
                .append(" | ").append(ms(percentile(s, 90))).append(" | ").append(ms(percentile(s, 99))).append(" | ")
                .append(ms(s[s.length - 1])).append(" |\n");
    }

    /** Nearest rank: the smallest sample with at least p% of the samples at or below it. */
    static long percentile(long[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.2f", nanos / 1e6);
    }

    private static String list(long[] nanos) {
        List<String> out = new ArrayList<>();
        for (long n : nanos) {
            out.add(String.format(Locale.ROOT, "%.1f", n / 1e6));
        }
        return String.join(" ", out);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static int positive(String[] args, int i) {
        int n = Integer.parseInt(value(args, i));
        if (n < 1) {
            throw new IllegalArgumentException(args[i - 1] + " must be at least 1");
        }
        return n;
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a temp file left behind
                }
            });
        } catch (IOException e) {
            // a temp directory left behind
        }
    }
}
