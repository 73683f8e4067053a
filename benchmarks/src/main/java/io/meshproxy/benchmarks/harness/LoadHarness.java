package io.meshproxy.benchmarks.harness;

import io.meshproxy.benchmarks.FixedResponseUpstream;
import io.meshproxy.benchmarks.LoopbackTransport;
import io.meshproxy.benchmarks.RunEnvironment;
import io.netty.channel.EventLoopGroup;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The open-loop load harness: what the mesh costs per hop, against the direct path and against nginx and
 * HAProxy with the same worker count, as Markdown tables and a PNG of the latency percentile curves.
 *
 * <p>The upstream ({@link FixedResponseUpstream}, one event loop) and the load generator ({@link OpenLoopLoad},
 * one event loop) run in this JVM: on a small machine there is no core to spare for a third process, a second
 * JVM would need its own warm-up, and with {@code --pin} this JVM and the proxies get separate cores. The proxies
 * are separate processes (except the in-process client, which by definition lives in the caller's JVM). All
 * scenarios are started once; every set then alternates between them, repetition by repetition, so drift (JIT,
 * heat, a neighbour's build) hits them all alike.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.meshproxy.benchmarks.harness.LoadHarness --short | --full [options]</pre>
 */
public final class LoadHarness {
    static final String UPSTREAM_NAME = "harness-upstream";
    static final List<String> ALL_SCENARIOS =
            List.of("direct", "sidecar", "sidecar-2hop-mtls", "in-process", "nginx", "haproxy");
    /** The latency bound of the max-throughput search, µs: p99 under 1 ms. */
    static final long SEARCH_P99_BOUND_MICROS = 1000;

    private LoadHarness() {}

    /** What to run; {@code --short} and {@code --full} set the durations, the other flags override them. */
    public static final class Options {
        String preset = "short";
        List<String> scenarios = new ArrayList<>(ALL_SCENARIOS);
        List<String> sets = new ArrayList<>(List.of("istio", "sweep", "max"));
        Protocol protocol = Protocol.HTTP1;
        int payload = 1024;
        int requestBytes = 0;
        int rate = 1000;
        int connections = 16;
        List<Integer> sweep = List.of(2, 16, 64);
        int warmupSeconds = 6;
        int reps = 2;
        double stepSeconds = 2;
        double sweepSeconds = 1.5;
        double searchSeconds = 1;
        int searchStart = 1000;
        int searchCap = 128_000;
        int bisections = 2;
        boolean pin;
        Integer workers;
        Path jar = Path.of("proxy-sidecar/target/meshproxy.jar");
        /** bin/meshproxy when it is there (run from the repository), "none" for a plain java -jar. */
        Path launcher = Files.isRegularFile(Path.of("bin/meshproxy")) ? Path.of("bin/meshproxy") : null;
        Path out = Path.of("benchmarks/results");
        int upstreamDelayMillis;
        final List<String> args = new ArrayList<>();

        void full() {
            preset = "full";
            warmupSeconds = 15;
            reps = 5;
            stepSeconds = 10;
            sweepSeconds = 5;
            searchSeconds = 3;
            bisections = 4;
        }

        public static Options parse(String... args) {
            Options o = new Options();
            o.args.addAll(List.of(args));
            if (o.args.contains("--full")) {
                o.full();
            }
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--short", "--full" -> { }
                    case "--scenarios" -> o.scenarios = list(value(args, ++i), ALL_SCENARIOS, a);
                    case "--sets" -> o.sets = list(value(args, ++i), List.of("istio", "sweep", "max"), a);
                    case "--protocol" -> o.protocol = Protocol.parse(value(args, ++i));
                    case "--payload" -> o.payload = atLeast(args, ++i, 0);
                    case "--request-bytes" -> o.requestBytes = atLeast(args, ++i, 0);
                    case "--rate" -> o.rate = atLeast(args, ++i, 1);
                    case "--connections" -> o.connections = atLeast(args, ++i, 1);
                    case "--sweep" -> o.sweep = Stream.of(value(args, ++i).split(",")).map(Integer::parseInt).toList();
                    case "--warmup" -> o.warmupSeconds = atLeast(args, ++i, 0);
                    case "--reps" -> o.reps = atLeast(args, ++i, 1);
                    case "--step" -> o.stepSeconds = seconds(args, ++i);
                    case "--sweep-step" -> o.sweepSeconds = seconds(args, ++i);
                    case "--search-step" -> o.searchSeconds = seconds(args, ++i);
                    case "--search-start" -> o.searchStart = atLeast(args, ++i, 1);
                    case "--bisections" -> o.bisections = atLeast(args, ++i, 0);
                    case "--pin" -> o.pin = true;
                    case "--workers" -> o.workers = atLeast(args, ++i, 1);
                    case "--jar" -> o.jar = Path.of(value(args, ++i));
                    case "--launcher" -> {
                        String v = value(args, ++i);
                        o.launcher = v.equals("none") ? null : Path.of(v);
                    }
                    case "--out" -> o.out = Path.of(value(args, ++i));
                    case "--upstream-delay-ms" -> o.upstreamDelayMillis = atLeast(args, ++i, 0);
                    case "-h", "--help" -> {
                        return null;
                    }
                    default -> throw new IllegalArgumentException("unknown argument '" + a + "' (try --help)");
                }
            }
            return o;
        }

        private static List<String> list(String v, List<String> allowed, String flag) {
            List<String> out = new ArrayList<>();
            for (String s : v.split(",")) {
                if (!allowed.contains(s.trim())) {
                    throw new IllegalArgumentException(flag + ": '" + s + "' is not one of " + allowed);
                }
                out.add(s.trim());
            }
            return out;
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

        private static double seconds(String[] args, int i) {
            double s = Double.parseDouble(value(args, i));
            if (s < 0.1) {
                throw new IllegalArgumentException(args[i - 1] + " must be at least 0.1 s, was " + s);
            }
            return s;
        }
    }

    static final String USAGE = """
            usage: java -cp benchmarks/target/benchmarks.jar io.meshproxy.benchmarks.harness.LoadHarness --short | --full [options]
              --short | --full       presets: the whole run in under 2 minutes, or the long one (default --short)
              --scenarios LIST       of direct,sidecar,sidecar-2hop-mtls,in-process,nginx,haproxy (default all;
                                     nginx and haproxy only when on PATH)
              --sets LIST            of istio,sweep,max (default all)
              --protocol P           http1 (default) or h2 (cleartext HTTP/2, prior knowledge, 100 streams/connection)
              --payload N            response body bytes (1024)
              --request-bytes N      POST this many bytes instead of a GET (0)
              --rate N, --connections N   the Istio-like set (1000 requests/s, 16 connections)
              --sweep LIST           connection counts of the sweep at --rate (2,16,64)
              --warmup S, --reps N, --step S, --sweep-step S, --search-step S, --search-start N, --bisections N
              --pin                  taskset: this JVM (generator, upstream, in-process mesh) and the proxies on
                                     separate cores
              --workers N            event loops / worker processes / threads of every proxy (default: the proxy
                                     cores with --pin, else nproc)
              --jar FILE             the sidecar jar (proxy-sidecar/target/meshproxy.jar)
              --launcher SCRIPT|none the sidecars run through SCRIPT (default bin/meshproxy, the JVM flags of a
                                     small sidecar), or with none as plain java -jar
              --out DIR              where the report goes (benchmarks/results)
            """;

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true"); // the plot is drawn off-screen
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.print(USAGE);
            return;
        }
        try {
            Report.Written w = run(o);
            System.out.println("written: " + w.markdown() + (w.plot() == null ? "" : ", " + w.plot()) + " (and "
                    + w.latestMarkdown().getFileName() + ")");
        } catch (IllegalStateException e) {
            System.err.println("load harness: " + e.getMessage());
            System.exit(1);
        }
    }

    /** A measured step's figures. */
    private record Step(OpenLoopLoad.Result result, double cpuSeconds, long peakRssKb) {}

    /** Runs everything {@code o} asks for and writes the report. */
    public static Report.Written run(Options o) throws Exception {
        long started = System.nanoTime();
        String loadAtStart = RunEnvironment.loadAverage();
        List<String> wanted = new ArrayList<>(o.scenarios);
        List<String> notes = new ArrayList<>();
        boolean sidecars = wanted.contains("sidecar") || wanted.contains("sidecar-2hop-mtls");
        if (sidecars && !Files.isRegularFile(o.jar)) {
            throw new IllegalStateException(o.jar + " is missing: build it first (./mvnw -B -DskipTests package), give"
                    + " --jar FILE, or leave out the sidecar scenarios (--scenarios direct,in-process,nginx,haproxy)");
        }
        for (String peer : List.of("nginx", "haproxy")) {
            if (wanted.contains(peer) && !onPath(peer)) {
                wanted.remove(peer);
                String n = peer + " is not installed (not on PATH): skipped; to compare with it: apt-get install -y nginx"
                        + " haproxy";
                System.out.println(n);
                notes.add(n);
            }
        }
        Pinning pinning = Pinning.plan(o.pin, RunEnvironment.nproc());
        System.out.println(pinning.describe());
        pinning.applyToThisJvm();
        int workers = o.workers != null ? o.workers : pinning.proxyCoreCount();
        long clockTicks = Procfs.clockTicks();
        Path work = Files.createTempDirectory("meshproxy-harness");
        System.out.println("work directory (configs, logs of the proxies): " + work);

        EventLoopGroup group = LoopbackTransport.newGroup(1, "harness-load");
        Map<String, Scenario> running = new LinkedHashMap<>();
        try (FixedResponseUpstream upstream = new FixedResponseUpstream(o.payload, UPSTREAM_NAME,
                Duration.ofMillis(o.upstreamDelayMillis), 0, Duration.ZERO)) {
            Scenario.Setup setup = new Scenario.Setup(upstream.port(), o.jar.toAbsolutePath(),
                    o.launcher == null ? null : o.launcher.toAbsolutePath(), workers,
                    pinning.proxyPrefix(), work, o.protocol, o.requestBytes);
            for (String name : wanted) {
                System.out.println("starting " + name + " ...");
                running.put(name, start(name, setup, group));
            }
            List<Scenario> scenarios = new ArrayList<>(running.values());

            // Warm-up: every scenario at the Istio-like load, not recorded (JIT, pools, connections, TLS sessions).
            // A meshproxy JVM gets --warmup seconds; the direct path and the native peers need no JIT: 1 s.
            if (o.warmupSeconds > 0) {
                for (Scenario s : scenarios) {
                    boolean jvm = s.name().startsWith("sidecar") || s.name().equals("in-process");
                    OpenLoopLoad.Result r = OpenLoopLoad.run(group, s.target(), o.connections, o.rate,
                            Duration.ofSeconds(jvm ? o.warmupSeconds : Math.min(1, o.warmupSeconds)), UPSTREAM_NAME);
                    System.out.printf(Locale.ROOT, "warm-up %-18s p99 %s ms, %d ok, %d errors (not recorded)%n",
                            s.name(), r.latencyMillis(99), r.ok(), r.errors());
                }
            }

            Report report = new Report("meshproxy load harness: " + o.protocol.label() + ", " + o.payload
                    + "-byte responses");
            report.header("`java -cp benchmarks/target/benchmarks.jar io.meshproxy.benchmarks.harness.LoadHarness "
                    + String.join(" ", o.args) + "`\n");
            String loadAtSets = RunEnvironment.loadAverage();
            List<Report.Table> tables = new ArrayList<>();
            if (o.sets.contains("istio")) {
                tables.add(istio(o, scenarios, group, clockTicks));
            }
            if (o.sets.contains("sweep")) {
                tables.add(sweep(o, scenarios, group, clockTicks));
            }
            tables.forEach(report::table);
            if (o.sets.contains("max")) {
                report.searches(searchMethod(o), maxThroughput(o, scenarios, group, clockTicks));
            }
            for (String l : RunEnvironment.describe(loadAtStart)) {
                report.header(l);
            }
            report.header("- load average when the measured sets began: " + loadAtSets);
            report.header("- kernel: " + kernel() + "; loopback transport of generator and upstream: "
                    + LoopbackTransport.name());
            report.header("- pinning: " + pinning.describe());
            report.header("- upstream: `FixedResponseUpstream` in the harness JVM, one event loop, " + o.payload
                    + "-byte 200 responses" + (o.upstreamDelayMillis > 0 ? ", each delayed " + o.upstreamDelayMillis
                    + " ms" : "") + "; generator: open loop, one event loop, latency from the intended send time");
            report.header("- proxies, " + workers + " worker(s) each:");
            for (Scenario s : scenarios) {
                report.header("  - **" + s.name() + "**: " + s.describe());
            }
            report.header("- peers: " + peerVersions(wanted));
            report.header(String.format(Locale.ROOT, "- preset `--%s`: warm-up %d s per meshproxy scenario (1 s for the others), %d × %.1f s per"
                    + " scenario in the Istio-like set, %.1f s per sweep step, %.1f s per search step, %d bisections;"
                    + " wall time %d s", o.preset, o.warmupSeconds, o.reps, o.stepSeconds, o.sweepSeconds,
                    o.searchSeconds, o.bisections, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)));
            notes.forEach(report::note);
            String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmmss",
                    Locale.ROOT));
            Report.Written w = report.write(o.out, stamp);
            System.out.println();
            System.out.println(Files.readString(w.markdown()));
            return w;
        } finally {
            for (Scenario s : running.values()) {
                try {
                    s.close();
                } catch (RuntimeException e) {
                    System.err.println("stopping " + s.name() + ": " + e);
                }
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static Scenario start(String name, Scenario.Setup setup, EventLoopGroup group) throws Exception {
        return switch (name) {
            case "direct" -> new Scenario.Direct(setup);
            case "sidecar" -> new Scenario.Sidecar(setup, group);
            case "sidecar-2hop-mtls" -> new Scenario.TwoHopMutualTls(setup, group);
            case "in-process" -> new Scenario.InProcess(setup, group);
            case "nginx" -> new Scenario.Nginx(setup, group);
            case "haproxy" -> new Scenario.Haproxy(setup, group);
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** One measured load on {@code s}: the load, the CPU its proxy's processes used meanwhile, their peak RSS. */
    private static Step step(Scenario s, EventLoopGroup group, int connections, int rate, double seconds,
            long clockTicks) throws InterruptedException {
        List<List<ProcessHandle>> instances = s.instances();
        long before = ticks(instances);
        OpenLoopLoad.Result r = OpenLoopLoad.run(group, s.target(), connections, rate,
                Duration.ofMillis((long) (seconds * 1000)), UPSTREAM_NAME);
        long after = ticks(instances);
        double cpu = instances.isEmpty() || before < 0 || after < 0 ? -1 : (after - before) / (double) clockTicks;
        return new Step(r, cpu, peakRss(instances));
    }

    /** utime + stime of every process of every instance, -1 when one cannot be read. */
    private static long ticks(List<List<ProcessHandle>> instances) {
        long sum = 0;
        for (List<ProcessHandle> instance : instances) {
            for (ProcessHandle h : instance) {
                try {
                    sum += Procfs.cpuTicks(h.pid());
                } catch (IOException e) {
                    return -1;
                }
            }
        }
        return sum;
    }

    /** The largest instance's VmHWM (summed over its processes), kB; -1 when there is none. */
    private static long peakRss(List<List<ProcessHandle>> instances) {
        long peak = -1;
        for (List<ProcessHandle> instance : instances) {
            long sum = 0;
            for (ProcessHandle h : instance) {
                try {
                    sum += Procfs.ProcStatus.read(h.pid()).hwmKb();
                } catch (IOException e) {
                    // gone: not counted
                }
            }
            peak = Math.max(peak, sum);
        }
        return peak;
    }

    /** Accumulates the repetitions of one scenario at one connection count and rate. */
    private static final class Acc {
        final Scenario scenario;
        final int connections;
        final int rate;
        OpenLoopLoad.Result result;
        double cpu;
        long rss = -1;

        Acc(Scenario scenario, int connections, int rate) {
            this.scenario = scenario;
            this.connections = connections;
            this.rate = rate;
        }

        void add(Step s) {
            result = result == null ? s.result() : result.plus(s.result());
            cpu = cpu < 0 || s.cpuSeconds() < 0 ? -1 : cpu + s.cpuSeconds();
            rss = Math.max(rss, s.peakRssKb());
        }

        Report.Row row() {
            return new Report.Row(scenario.name(), scenario.hops(), connections, rate, result, cpu, rss);
        }
    }

    private static Report.Table istio(Options o, List<Scenario> scenarios, EventLoopGroup group, long clockTicks)
            throws InterruptedException {
        List<Acc> accs = new ArrayList<>();
        scenarios.forEach(s -> accs.add(new Acc(s, o.connections, o.rate)));
        for (int rep = 1; rep <= o.reps; rep++) {
            for (Acc a : accs) {
                Step s = step(a.scenario, group, o.connections, o.rate, o.stepSeconds, clockTicks);
                a.add(s);
                progress("istio-like " + rep + "/" + o.reps, a.scenario, o.connections, o.rate, s);
            }
        }
        return new Report.Table(String.format(Locale.ROOT, "Istio-like: %,d requests/s, %d B, %d connections",
                o.rate, o.payload, o.connections),
                String.format(Locale.ROOT, "Open loop at %,d requests/s over %d connections, %d repetitions of %.1f s"
                        + " per scenario, alternated round-robin; the rows add the repetitions' histograms. Added latency"
                        + " = the row's percentile minus the direct row's; for two hops the per-hop figure is the total"
                        + " divided by 2 (the total in parentheses). CPU: utime + stime of the proxy's processes during"
                        + " the measured loads; peak RSS: VmHWM (of the larger sidecar for two hops; master + workers"
                        + " summed for nginx).", o.rate, o.connections, o.reps, o.stepSeconds),
                accs.stream().map(Acc::row).toList());
    }

    private static Report.Table sweep(Options o, List<Scenario> scenarios, EventLoopGroup group, long clockTicks)
            throws InterruptedException {
        List<Acc> accs = new ArrayList<>();
        for (int c : o.sweep) {
            scenarios.forEach(s -> accs.add(new Acc(s, c, o.rate)));
        }
        for (Acc a : accs) {
            Step s = step(a.scenario, group, a.connections, o.rate, o.sweepSeconds, clockTicks);
            a.add(s);
            progress("sweep", a.scenario, a.connections, o.rate, s);
        }
        return new Report.Table(String.format(Locale.ROOT, "Connection sweep at %,d requests/s: %s connections", o.rate,
                o.sweep.stream().map(String::valueOf).reduce((x, y) -> x + ", " + y).orElse("")),
                String.format(Locale.ROOT, "The same rate over each connection count, %.1f s per scenario and count,"
                        + " scenarios alternated within each count.", o.sweepSeconds),
                accs.stream().map(Acc::row).toList());
    }

    private static String searchMethod(Options o) {
        return String.format(Locale.ROOT, "Per scenario, over %d connections: start at %,d requests/s and double while"
                + " a step passes (p99 < 1 ms, achieved rate ≥ 95%% of the target, every response 200), then bisect"
                + " %d times between the highest pass and the lowest failure; each step %.1f s, the scenarios'"
                + " steps alternated. Ratios are this scenario's highest passing rate over the peer's.",
                o.connections, o.searchStart, o.bisections, o.searchSeconds);
    }

    /** The bounded search of one scenario: doubling, then bisection. */
    private static final class Search {
        final Scenario scenario;
        final Options o;
        int rate;
        int lo;
        int hi = Integer.MAX_VALUE;
        int bisected;
        boolean done;
        double p99AtLo;
        double cpuAtLo = -1;
        long rss = -1;
        final List<String> steps = new ArrayList<>();

        Search(Scenario scenario, Options o) {
            this.scenario = scenario;
            this.o = o;
            this.rate = o.searchStart;
        }

        void record(Step s) {
            OpenLoopLoad.Result r = s.result();
            boolean pass = r.errors() == 0 && r.notOk() == 0 && r.unfinished() == 0
                    && r.latency().getValueAtPercentile(99) < SEARCH_P99_BOUND_MICROS
                    && r.achievedRate() >= 0.95 * rate;
            steps.add(rate + (pass ? " ✓" : " ✗"));
            rss = Math.max(rss, s.peakRssKb());
            if (pass) {
                lo = rate;
                p99AtLo = r.latencyMs(99);
                long served = r.ok() + r.notOk();
                cpuAtLo = s.cpuSeconds() < 0 || served == 0 ? -1 : s.cpuSeconds() / (served / 1000.0);
            } else {
                hi = Math.min(hi, rate);
            }
            if (hi == Integer.MAX_VALUE) {
                if ((long) rate * 2 > o.searchCap) {
                    done = true;
                } else {
                    rate *= 2;
                }
                return;
            }
            if (bisected >= o.bisections) {
                done = true;
                return;
            }
            bisected++;
            int next = lo == 0 ? hi / 2 : (lo + hi) / 2;
            if (next <= 0 || next == lo || next == hi || hi - lo <= Math.max(1, hi / 50)) {
                done = true;
                return;
            }
            rate = next;
        }
    }

    private static List<Report.Search> maxThroughput(Options o, List<Scenario> scenarios, EventLoopGroup group,
            long clockTicks) throws InterruptedException {
        List<Search> searches = new ArrayList<>();
        scenarios.forEach(s -> searches.add(new Search(s, o)));
        boolean more = true;
        while (more) {
            more = false;
            for (Search s : searches) {
                if (s.done) {
                    continue;
                }
                int rate = s.rate;
                Step st = step(s.scenario, group, o.connections, rate, o.searchSeconds, clockTicks);
                s.record(st);
                progress("max-throughput", s.scenario, o.connections, rate, st);
                more |= !s.done;
            }
        }
        return searches.stream().map(s -> new Report.Search(s.scenario.name(), s.lo, s.p99AtLo, s.steps, s.cpuAtLo,
                s.rss)).toList();
    }

    private static void progress(String set, Scenario s, int connections, int rate, Step st) {
        OpenLoopLoad.Result r = st.result();
        System.out.printf(Locale.ROOT, "%-16s %-18s %3d conns %,7d/s: p50 %s p99 %s ms, achieved %.0f/s, %d errors"
                + "%s%n", set, s.name(), connections, rate, r.latencyMillis(50), r.latencyMillis(99), r.achievedRate(),
                r.errors() + r.notOk(), st.cpuSeconds() < 0 ? "" : String.format(Locale.ROOT, ", proxy CPU %.2f s",
                        st.cpuSeconds()));
    }

    static boolean onPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            for (String d : List.of(dir, dir.replace("/bin", "/sbin"))) {
                Path p = Path.of(d, command);
                if (Files.isExecutable(p)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String kernel() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return System.getProperty("os.version");
        }
    }

    private static String peerVersions(List<String> wanted) {
        List<String> out = new ArrayList<>();
        if (wanted.contains("nginx")) {
            out.add(firstLine("nginx", "-v"));
        }
        if (wanted.contains("haproxy")) {
            out.add(firstLine("haproxy", "-v"));
        }
        return out.isEmpty() ? "none run" : String.join("; ", out);
    }

    static String firstLine(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            int nl = text.indexOf('\n');
            return nl < 0 ? text : text.substring(0, nl);
        } catch (IOException e) {
            return command[0] + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return command[0] + ": interrupted";
        }
    }
}
