package io.meshproxy.benchmarks;

import static io.meshproxy.benchmarks.harness.Procfs.clockTicks;
import static io.meshproxy.benchmarks.harness.Procfs.cpuTicks;
import static io.meshproxy.benchmarks.harness.Procfs.freePort;
import static io.meshproxy.benchmarks.harness.Procfs.tail;
import static io.meshproxy.benchmarks.harness.Procfs.ticksByThread;
import static io.meshproxy.benchmarks.harness.Procfs.topThreads;

import io.meshproxy.benchmarks.harness.ChildProcess;
import io.meshproxy.benchmarks.harness.OpenLoopLoad;
import io.meshproxy.benchmarks.harness.Procfs.ProcStatus;
import io.meshproxy.config.ConfigLoader;
import io.meshproxy.config.LoadedConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The standalone sidecar's footprint: memory at idle and under load, CPU per request, latency through it.
 *
 * <p>Starts a fast upstream ({@link FixedResponseUpstream}) and writes a config directory — a Proxy bootstrap
 * (admin and an outbound listener on loopback ports chosen free by binding port 0) and a ServiceEntry
 * {@code reviews.default.svc.cluster.local} whose only endpoint is the upstream — then launches the sidecar as
 * a child process on it:
 * <ul>
 *   <li>by default {@code java -jar proxy-sidecar/target/meshproxy.jar run -c DIR} (the {@code java} of this
 *       JVM; {@code --jar} for another jar);</li>
 *   <li>{@code --launcher bin/meshproxy}: {@code bin/meshproxy run -c DIR}, the launcher script and its JVM
 *       flags;</li>
 *   <li>{@code --command "..."}: any command line, split at spaces (quotes group), with {@code {config}},
 *       {@code {admin-port}} and {@code {outbound-port}} replaced.</li>
 * </ul>
 * It waits for the admin {@code /ready} to answer 200 (the time from launch is reported), checks that
 * {@code Host: reviews} reaches the upstream, lets the sidecar settle ({@code --settle}, 5 s) and reads
 * {@code VmRSS} and {@code VmHWM} from {@code /proc/PID/status} (no GC can be forced in a child: it just waits).
 * Then {@link OpenLoopLoad} drives {@code --rate} requests per second (1,000) open-loop over {@code --connections}
 * keep-alive connections (4): {@code --warmup} seconds (10) not recorded, then {@code --duration} seconds (30)
 * measured, sampling {@code VmRSS} every second throughout. The child's CPU time is {@code utime + stime} of
 * {@code /proc/PID/stat} in clock ticks ({@code getconf CLK_TCK}), per 1,000 requests of the measured load;
 * the same by thread name (/proc/PID/task) shows how much of it is still JIT compilation. The PID measured
 * is the child's, or — when the child is a script that starts {@code java} without {@code exec} — its first
 * {@code java} descendant.
 *
 * <p>Before the sidecar starts, the same load (with its warm-up) runs directly against the upstream
 * ({@code --baseline} seconds, default: the same duration; 0 skips it), so the latency through the sidecar can be read against
 * the direct path of the same run.
 *
 * <p>The child's stdout and stderr go to a log file (printed at the end); the child and its descendants are
 * always stopped: SIGTERM, then SIGKILL after 10 s (also from a shutdown hook if this JVM is interrupted).
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.meshproxy.benchmarks.SidecarFootprint [--launcher bin/meshproxy
 *     | --command "..." | --jar FILE] [--rate 1000] [--duration 30] [--warmup 10] [--connections 4] [--settle 5]
 *     [--baseline S]
 *     [--payload 1024] [--admin-port P] [--outbound-port P] [--out benchmarks/results/sidecar-footprint.md]</pre>
 */
public final class SidecarFootprint {
    public static final String AUTHORITY = "reviews";
    public static final String PATH = "/reviews";
    static final String UPSTREAM_NAME = "footprint-upstream";

    private SidecarFootprint() {}

    static final class Options {
        Path jar = Path.of("proxy-sidecar/target/meshproxy.jar");
        String launcher;
        String command;
        int rate = 1000;
        int durationSeconds = 30;
        int connections = 4;
        int settleSeconds = 5;
        int warmupSeconds = 10;
        Integer baselineSeconds;
        int payload = 1024;
        int adminPort;
        int outboundPort;
        int readyTimeoutSeconds = 60;
        Path out = Path.of("benchmarks/results/sidecar-footprint.md");
        final List<String> args = new ArrayList<>();

        static Options parse(String[] args) {
            Options o = new Options();
            o.args.addAll(List.of(args));
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--jar" -> o.jar = Path.of(value(args, ++i));
                    case "--launcher" -> o.launcher = value(args, ++i);
                    case "--command" -> o.command = value(args, ++i);
                    case "--rate" -> o.rate = atLeast(args, ++i, 1);
                    case "--duration" -> o.durationSeconds = atLeast(args, ++i, 1);
                    case "--connections" -> o.connections = atLeast(args, ++i, 1);
                    case "--settle" -> o.settleSeconds = atLeast(args, ++i, 0);
                    case "--warmup" -> o.warmupSeconds = atLeast(args, ++i, 0);
                    case "--baseline" -> o.baselineSeconds = atLeast(args, ++i, 0);
                    case "--payload" -> o.payload = atLeast(args, ++i, 0);
                    case "--admin-port" -> o.adminPort = atLeast(args, ++i, 1);
                    case "--outbound-port" -> o.outboundPort = atLeast(args, ++i, 1);
                    case "--ready-timeout" -> o.readyTimeoutSeconds = atLeast(args, ++i, 1);
                    case "--out" -> o.out = Path.of(value(args, ++i));
                    case "-h", "--help" -> {
                        return null;
                    }
                    default -> throw new IllegalArgumentException("unknown argument '" + a + "' (try --help)");
                }
            }
            if (o.launcher != null && o.command != null) {
                throw new IllegalArgumentException("--launcher and --command exclude each other");
            }
            if (o.connections > o.rate) {
                throw new IllegalArgumentException("--connections must not exceed --rate");
            }
            return o;
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) {
                throw new IllegalArgumentException(args[i - 1] + " needs a value");
            }
            return args[i];
        }

        private static int atLeast(String[] args, int i, int min) {
            int n = Integer.parseInt(value(args, i));
            if (n < min) {
                throw new IllegalArgumentException(args[i - 1] + " must be at least " + min + ", was " + n);
            }
            return n;
        }

        int baseline() {
            return baselineSeconds == null ? durationSeconds : baselineSeconds;
        }
    }

    static final String USAGE = """
            usage: java -cp benchmarks/target/benchmarks.jar io.meshproxy.benchmarks.SidecarFootprint [options]
              how to start the sidecar (default: java -jar proxy-sidecar/target/meshproxy.jar run -c {config}):
                --jar FILE           the sidecar jar for the default command
                --launcher SCRIPT    SCRIPT run -c {config}  (e.g. bin/meshproxy)
                --command "CMD"      any command line; {config}, {admin-port}, {outbound-port} are replaced
              --rate N             requests per second, open loop (1000)
              --duration S         seconds of load through the sidecar (30)
              --connections N      keep-alive connections (4)
              --settle S           idle seconds between /ready and the idle RSS reading (5)
              --warmup S           seconds of the same load before each measured one, not recorded (10)
              --baseline S         seconds of the same load directly against the upstream first (= --duration; 0: none)
              --payload N          response body bytes (1024)
              --admin-port P, --outbound-port P   fixed ports (default: free ones)
              --ready-timeout S    how long to wait for /ready (60)
              --out FILE           the Markdown report (benchmarks/results/sidecar-footprint.md)
            """;

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        if (o == null) {
            System.out.print(USAGE);
            return;
        }
        String loadAtStart = RunEnvironment.loadAverage();
        Report report = run(o);
        String text = report.markdown(o, loadAtStart);
        System.out.println();
        System.out.println(text);
        if (report.failure != null) {
            System.out.println("not written to " + o.out + " (the run failed); the sidecar's output is in " + report.log);
            System.exit(1);
        }
        RunEnvironment.write(o.out, text);
        System.out.println("written to " + o.out + "; the sidecar's output is in " + report.log);
    }

    /** Everything measured; fields stay at their defaults (-1, null) when the run ended before them. */
    static final class Report {
        List<String> command;
        Path log;
        String failure;
        String routingNote;
        long pid = -1;
        String pidNote = "";
        long readyMillis = -1;
        long rssIdleKb = -1;
        long hwmIdleKb = -1;
        int threadsIdle = -1;
        double idleCpuSeconds = -1;
        long rssPeakKb = -1;
        long rssEndKb = -1;
        long hwmEndKb = -1;
        int threadsEnd = -1;
        int rssSamples;
        /** VmRSS each second of the warm-up and the load, kB. */
        final List<Long> rssSeriesKb = new java.util.concurrent.CopyOnWriteArrayList<>();
        double loadCpuSeconds = -1;
        double warmupCpuSeconds = -1;
        String cpuByThread;
        long clockTicks;
        OpenLoopLoad.Result direct;
        OpenLoopLoad.Result sidecar;

        String markdown(Options o, String loadAtStart) {
            StringBuilder sb = new StringBuilder();
            sb.append("# Sidecar footprint: memory, CPU and latency at ").append(o.rate).append(" requests/s\n\n");
            sb.append("`java -cp benchmarks/target/benchmarks.jar io.meshproxy.benchmarks.SidecarFootprint")
                    .append(o.args.isEmpty() ? "" : " " + quoted(o.args)).append("`\n\n");
            RunEnvironment.describe(loadAtStart).forEach(l -> sb.append(l).append('\n'));
            sb.append("- sidecar command: `").append(command == null ? "?" : String.join(" ", command)).append("`\n");
            sb.append("- measured process: ").append(pid < 0 ? "?" : "PID " + pid).append(pidNote).append('\n');
            sb.append("- load: open loop, ").append(o.rate).append(" requests/s for ").append(o.durationSeconds)
                    .append(" s over ").append(o.connections).append(" keep-alive HTTP/1.1 connections, `GET ")
                    .append(PATH).append("` with `Host: ").append(AUTHORITY).append("`, ").append(o.payload)
                    .append("-byte responses; latency from each request's intended send time (corrected for")
                    .append(" coordinated omission), after ").append(o.warmupSeconds).append(" s of the same load not")
                    .append(" recorded; client, upstream and sidecar on one machine, loopback, ")
                    .append(LoopbackTransport.name()).append('\n');
            if (routingNote != null) {
                sb.append("- **note**: ").append(routingNote).append('\n');
            }
            if (failure != null) {
                sb.append("\n**The run failed**: ").append(failure).append("\n");
            }
            sb.append('\n');
            sb.append("| footprint | value |\n|---|---|\n");
            sb.append("| launch → admin `/ready` answers 200 | ").append(readyMillis < 0 ? "n/a" : readyMillis + " ms")
                    .append(" |\n");
            sb.append("| **RSS idle** (VmRSS, ").append(o.settleSeconds).append(" s after ready) | ")
                    .append(mib(rssIdleKb)).append(" |\n");
            sb.append("| **RSS peak under load** (max of ").append(rssSamples)
                    .append(" VmRSS samples, 1/s, warm-up and load) | ")
                    .append(mib(rssPeakKb)).append(" |\n");
            sb.append("| VmHWM (peak RSS since launch) at idle / after the load | ").append(mib(hwmIdleKb))
                    .append(" / ").append(mib(hwmEndKb)).append(" |\n");
            sb.append("| RSS after the load | ").append(mib(rssEndKb)).append(" |\n");
            sb.append("| threads at idle / after the load | ").append(threadsIdle < 0 ? "n/a" : threadsIdle)
                    .append(" / ").append(threadsEnd < 0 ? "n/a" : threadsEnd).append(" |\n");
            sb.append("| CPU at idle (user+sys over the settle period) | ")
                    .append(idleCpuSeconds < 0 || o.settleSeconds == 0 ? "n/a"
                            : String.format(Locale.ROOT, "%.2f s in %d s", idleCpuSeconds, o.settleSeconds))
                    .append(" |\n");
            if (sidecar != null) {
                long served = sidecar.ok() + sidecar.notOk();
                sb.append("| **CPU per 1,000 requests** (user+sys during the load / thousands served) | ")
                        .append(loadCpuSeconds < 0 || served == 0 ? "n/a"
                                : String.format(Locale.ROOT, "%.3f s (%.2f s for %d requests; CLK_TCK %d)",
                                        loadCpuSeconds / (served / 1000.0), loadCpuSeconds, served, clockTicks))
                        .append(" |\n");
                if (cpuByThread != null) {
                    sb.append("| CPU during the load by thread (top 6) | ").append(cpuByThread).append(" |\n");
                }
                if (warmupCpuSeconds >= 0 && o.warmupSeconds > 0) {
                    sb.append("| CPU during the ").append(o.warmupSeconds).append(" s warm-up (JIT compilation included) | ")
                            .append(String.format(Locale.ROOT, "%.2f s for %d requests", warmupCpuSeconds,
                                    (long) o.rate * o.warmupSeconds)).append(" |\n");
                }
            }
            sb.append('\n');
            if (sidecar != null || direct != null) {
                sb.append("| latency, ms | requests ok / other / errors / unfinished | achieved rate /s | p50 | p90 | p99")
                        .append(" | p99.9 | max | service time p50 / p99 / max | sent late by p50 / p99 |\n");
                sb.append("|---|---|---|---|---|---|---|---|---|---|\n");
                if (direct != null) {
                    row(sb, "direct (client → upstream), " + o.baseline() + " s", direct);
                }
                if (sidecar != null) {
                    row(sb, "**through the sidecar**, " + o.durationSeconds + " s", sidecar);
                }
                sb.append('\n');
                sb.append("Latency is from the intended send time; service time is from the actual send (it hides")
                        .append(" queueing behind a slow response); \"sent late by\" is the actual minus the intended send")
                        .append(" time (the generator's own wake-up delay, and waiting for a slow response on the same")
                        .append(" connection). Compare the sidecar with the direct row of this run only.\n");
                if (!rssSeriesKb.isEmpty()) {
                    List<String> mib = new ArrayList<>();
                    rssSeriesKb.forEach(kb -> mib.add(Long.toString(Math.round(kb / 1024.0))));
                    sb.append("\nVmRSS each second of the warm-up and the load (MiB): ").append(String.join(" ", mib))
                            .append('\n');
                }
                if (sidecar != null && sidecar.wrongUpstream() > 0) {
                    sb.append("\n").append(sidecar.wrongUpstream())
                            .append(" responses through the sidecar did not come from the benchmark's upstream.\n");
                }
            }
            return sb.toString();
        }

        /** The arguments as a shell would need them: one with a blank in double quotes. */
        private static String quoted(List<String> args) {
            List<String> out = new ArrayList<>();
            for (String a : args) {
                out.add(a.isEmpty() || a.matches(".*\\s.*") ? '"' + a + '"' : a);
            }
            return String.join(" ", out);
        }

        private static void row(StringBuilder sb, String name, OpenLoopLoad.Result r) {
            sb.append("| ").append(name).append(" | ").append(r.ok()).append(" / ").append(r.notOk()).append(" / ")
                    .append(r.errors()).append(" / ").append(r.unfinished()).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f", r.achievedRate())).append(" | ")
                    .append(r.latencyMillis(50)).append(" | ").append(r.latencyMillis(90)).append(" | ")
                    .append(r.latencyMillis(99)).append(" | ").append(r.latencyMillis(99.9)).append(" | ")
                    .append(r.latencyMillis(100)).append(" | ").append(r.serviceMillis(50)).append(" / ")
                    .append(r.serviceMillis(99)).append(" / ").append(r.serviceMillis(100)).append(" | ").append(r.latenessMillis(50)).append(" / ")
                    .append(r.latenessMillis(99)).append(" |\n");
        }

        private static String mib(long kb) {
            return kb < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", kb / 1024.0);
        }
    }

    static Report run(Options o) throws Exception {
        Report report = new Report();
        report.clockTicks = clockTicks();
        Path work = Files.createTempDirectory("sidecar-footprint");
        Path configDir = Files.createDirectories(work.resolve("config"));
        report.log = work.resolve("sidecar.log");
        EventLoopGroup clientGroup = LoopbackTransport.newGroup(1, "footprint-client");
        try (FixedResponseUpstream upstream = new FixedResponseUpstream(o.payload, UPSTREAM_NAME)) {
            if (o.baseline() > 0) {
                System.out.printf("direct baseline: %d requests/s for %d s (after %d s of warm-up) against the"
                        + " upstream on :%d%n", o.rate, o.baseline(), o.warmupSeconds, upstream.port());
                warmup(o, clientGroup, upstream.port());
                report.direct = OpenLoopLoad.run(clientGroup, upstream.port(), AUTHORITY, PATH, o.connections, o.rate,
                        Duration.ofSeconds(o.baseline()), UPSTREAM_NAME);
            }

            int adminPort = o.adminPort > 0 ? o.adminPort : freePort();
            int outboundPort = o.outboundPort > 0 ? o.outboundPort : freePort();
            Files.writeString(configDir.resolve("proxy.yaml"), proxyYaml(adminPort, outboundPort));
            Files.writeString(configDir.resolve("upstream.yaml"), serviceEntryYaml(upstream.port()));
            // The ports the sidecar will use, read back from the config as the sidecar will read it.
            LoadedConfig loaded = ConfigLoader.load(configDir);
            adminPort = loaded.config().admin().port();
            outboundPort = outboundPort(loaded.config());
            report.command = command(o, configDir, adminPort, outboundPort);
            System.out.println("starting: " + String.join(" ", report.command) + "  (output: " + report.log + ")");

            ChildProcess child = ChildProcess.start(report.command, report.log);
            try {
                long launched = System.nanoTime();
                String notReady = child.awaitHttp200(adminPort, "/ready", Duration.ofSeconds(o.readyTimeoutSeconds));
                if (notReady != null) {
                    report.failure = notReady + "; last lines of the sidecar's output:\n\n```\n" + tail(report.log, 15)
                            + "```";
                    return report;
                }
                report.readyMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launched);
                ProcessHandle measured = child.measured();
                report.pid = measured.pid();
                if (measured.pid() != child.process().pid()) {
                    report.pidNote = " (the `java` descendant of the launched PID " + child.process().pid() + ")";
                }
                System.out.printf("ready after %d ms; measuring PID %d%n", report.readyMillis, report.pid);
                report.routingNote = checkRouting(clientGroup, outboundPort);

                // Idle: nothing sent for the settle period; its CPU ticks are the idle cost.
                long ticksBeforeIdle = cpuTicks(report.pid);
                Thread.sleep(TimeUnit.SECONDS.toMillis(o.settleSeconds));
                report.idleCpuSeconds = (cpuTicks(report.pid) - ticksBeforeIdle) / (double) report.clockTicks;
                ProcStatus idle = ProcStatus.read(report.pid);
                report.rssIdleKb = idle.rssKb();
                report.hwmIdleKb = idle.hwmKb();
                report.threadsIdle = idle.threads();
                System.out.printf("idle: VmRSS %d kB, VmHWM %d kB; load: %d requests/s for %d s after %d s of"
                        + " warm-up%n", idle.rssKb(), idle.hwmKb(), o.rate, o.durationSeconds, o.warmupSeconds);

                AtomicLong peak = new AtomicLong(idle.rssKb());
                AtomicLong samples = new AtomicLong();
                List<Long> series = report.rssSeriesKb;
                ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "footprint-rss-sampler");
                    t.setDaemon(true);
                    return t;
                });
                long pid = report.pid;
                sampler.scheduleAtFixedRate(() -> {
                    try {
                        long rss = ProcStatus.read(pid).rssKb();
                        peak.accumulateAndGet(rss, Math::max);
                        samples.incrementAndGet();
                        series.add(rss);
                    } catch (IOException e) {
                        // the process is gone: the load reports it
                    }
                }, 1, 1, TimeUnit.SECONDS);
                long ticksBefore;
                Map<String, Long> threadsBefore;
                try {
                    long ticksBeforeWarmup = cpuTicks(report.pid);
                    warmup(o, clientGroup, outboundPort);
                    ticksBefore = cpuTicks(report.pid);
                    threadsBefore = ticksByThread(report.pid);
                    report.warmupCpuSeconds = (ticksBefore - ticksBeforeWarmup) / (double) report.clockTicks;
                    report.sidecar = OpenLoopLoad.run(clientGroup, outboundPort, AUTHORITY, PATH, o.connections,
                            o.rate, Duration.ofSeconds(o.durationSeconds), UPSTREAM_NAME);
                } finally {
                    sampler.shutdownNow();
                    sampler.awaitTermination(5, TimeUnit.SECONDS);
                }
                report.loadCpuSeconds = (cpuTicks(report.pid) - ticksBefore) / (double) report.clockTicks;
                report.cpuByThread = topThreads(threadsBefore, ticksByThread(report.pid), report.clockTicks, 6);
                ProcStatus end = ProcStatus.read(report.pid);
                report.rssPeakKb = Math.max(peak.get(), end.rssKb());
                report.rssSamples = (int) samples.get() + 1;
                report.rssEndKb = end.rssKb();
                report.hwmEndKb = end.hwmKb();
                report.threadsEnd = end.threads();
            } catch (IOException e) {
                report.failure = "reading /proc of the sidecar: " + e.getMessage() + " (did it exit?); last lines of"
                        + " its output:\n\n```\n" + tail(report.log, 15) + "```";
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                report.failure = e + "; last lines of the sidecar's output:\n\n```\n" + tail(report.log, 15) + "```";
            } finally {
                child.close();
            }
            return report;
        } finally {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            ReloadLatency.deleteTree(configDir);
        }
    }

    /** The same load for {@code --warmup} seconds, results dropped (JIT, pools, connections warm up). */
    private static void warmup(Options o, EventLoopGroup group, int port) throws InterruptedException {
        if (o.warmupSeconds > 0) {
            OpenLoopLoad.Result r = OpenLoopLoad.run(group, port, AUTHORITY, PATH, o.connections, o.rate,
                    Duration.ofSeconds(o.warmupSeconds), null);
            System.out.printf("  warm-up: %d ok, %d other, %d errors, p99 %s ms (not recorded)%n", r.ok(), r.notOk(),
                    r.errors(), r.latencyMillis(99));
        }
    }

    public static String proxyYaml(int adminPort, int outboundPort) {
        return """
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: footprint}
                spec:
                  admin: {address: 127.0.0.1, port: %d}
                  listeners:
                  - {name: outbound, address: 127.0.0.1, port: %d, direction: OUTBOUND}
                """.formatted(adminPort, outboundPort);
    }

    public static String serviceEntryYaml(int upstreamPort) {
        return """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: reviews}
                spec:
                  hosts: [reviews.default.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints:
                  - {address: 127.0.0.1, ports: {http: %d}}
                """.formatted(upstreamPort);
    }

    private static int outboundPort(ProxyConfig config) {
        for (ListenerConfig l : config.listeners()) {
            if (l.name().equals("outbound")) {
                return l.port();
            }
        }
        throw new IllegalStateException("no outbound listener in the config written");
    }

    static List<String> command(Options o, Path configDir, int adminPort, int outboundPort) {
        String dir = configDir.toString();
        if (o.command != null) {
            List<String> out = new ArrayList<>();
            for (String w : split(o.command)) {
                out.add(w.replace("{config}", dir).replace("{admin-port}", Integer.toString(adminPort))
                        .replace("{outbound-port}", Integer.toString(outboundPort)));
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException("--command is empty");
            }
            return out;
        }
        if (o.launcher != null) {
            return List.of(o.launcher, "run", "-c", dir);
        }
        if (!Files.isRegularFile(o.jar)) {
            throw new IllegalArgumentException(o.jar + " does not exist: build the sidecar (./mvnw -B -pl proxy-sidecar"
                    + " -am package -DskipTests), or give --jar, --launcher or --command");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        return List.of(java, "-jar", o.jar.toString(), "run", "-c", dir);
    }

    /** Splits at blanks; single or double quotes group (and are removed). */
    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (char c : line.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    w.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unbalanced quote in --command: " + line);
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }

    /**
     * Null when {@code Host: reviews} through the outbound listener is answered 200 by the benchmark's
     * upstream; otherwise a note for the report (another command may route elsewhere, as the demo does).
     */
    static String checkRouting(EventLoopGroup group, int outboundPort) throws Exception {
        try (KeepAliveClient c = new KeepAliveClient(group, outboundPort, AUTHORITY)) {
            KeepAliveClient.Response r = c.get(PATH).get(10, TimeUnit.SECONDS);
            if (r.status() != 200) {
                throw new IllegalStateException("GET " + PATH + " with Host: " + AUTHORITY + " through 127.0.0.1:"
                        + outboundPort + " answered " + r.status() + ", not 200");
            }
            if (!UPSTREAM_NAME.equals(r.upstream())) {
                return "responses through the sidecar do not come from the benchmark's upstream (the command does not"
                        + " serve the config written; it routes `Host: " + AUTHORITY + "` elsewhere)";
            }
            return null;
        }
    }
}
