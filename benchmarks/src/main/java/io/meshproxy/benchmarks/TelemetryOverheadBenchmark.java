package io.meshproxy.benchmarks;

import com.sun.net.httpserver.HttpServer;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.telemetry.Telemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.TelemetrySink;
import io.meshproxy.telemetry.WorkloadInfo;
import io.meshproxy.telemetry.accesslog.AccessLogger;
import io.netty.channel.EventLoopGroup;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What telemetry costs a proxied request: one HTTP/1.1 GET round trip (1 KiB response) through a meshproxy
 * listener to {@link FixedResponseUpstream}, through two proxies started side by side in the same trial:
 * <ul>
 *   <li>{@code off}: no event listener (what an embedder of proxy-core alone gets);</li>
 *   <li>{@code on}: {@link Telemetry} as the issue sets the bar: Istio's standard metrics, tracing sampled at 1%
 *       and exported to a Zipkin endpoint (a local HTTP server in this benchmark that reads each POST to
 *       {@code /api/v2/spans} and answers 202), access logs sampled at 10% to a temporary file.</li>
 * </ul>
 * Each in two modes: sample time ({@code off}, {@code on}: p50, p99, p99.9 in µs) and throughput
 * ({@code offThroughput}, {@code onThroughput}: closed-loop round trips per second of one client). The figure
 * is the ratio on/off of the same run: throughput(on)/throughput(off), and p99(off)/p99(on).
 *
 * <p>Same harness as {@link ProxyLatencyBenchmark}: closed loop, one {@link KeepAliveClient} connection per
 * proxy on one client event loop, one proxy event loop each, one upstream event loop shared by both proxies.
 * Tear-down prints what telemetry did during the trial (spans posted, access log lines written and dropped),
 * so a run where it silently did nothing is visible.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Threads(1)
public class TelemetryOverheadBenchmark {
    private static final String AUTHORITY = "upstream.bench";
    private static final String PATH = "/bench";
    private static final int PAYLOAD = 1024;
    private static final long TIMEOUT_SECONDS = 10;

    private FixedResponseUpstream upstream;
    private HttpServer zipkin;
    private final LongAdder zipkinPosts = new LongAdder();
    private final LongAdder zipkinBytes = new LongAdder();
    private Path accessLog;
    private Telemetry telemetry;
    private MeshProxy proxyOff;
    private MeshProxy proxyOn;
    private EventLoopGroup clientGroup;
    private KeepAliveClient clientOff;
    private KeepAliveClient clientOn;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        upstream = new FixedResponseUpstream(PAYLOAD);
        zipkin = startZipkinSink();
        accessLog = Files.createTempFile("meshproxy-bench-access", ".log");
        TelemetryConfig config = new TelemetryConfig(
                new WorkloadInfo("bench", "default", "bench", "v1", "bench", null),
                Map.of("in", "destination"),
                TelemetryConfig.Metrics.DEFAULT,
                new TelemetryConfig.Tracing(1.0,
                        "http://127.0.0.1:" + zipkin.getAddress().getPort() + "/api/v2/spans", 10_000, "bench"),
                new TelemetryConfig.AccessLog(accessLog.toString(), 10, true, 8192));
        telemetry = Telemetry.create(config, null);

        proxyOff = MeshProxy.builder().config(proxyConfig()).eventLoopThreads(1).build().start();
        proxyOn = MeshProxy.builder().config(proxyConfig()).eventListener(telemetry.listener())
                .eventLoopThreads(1).build().start();
        telemetry.bindClusters(proxyOn::clusters);

        clientGroup = LoopbackTransport.newGroup(1, "bench-client");
        clientOff = new KeepAliveClient(clientGroup, proxyOff.listenerPort("in"), AUTHORITY);
        clientOn = new KeepAliveClient(clientGroup, proxyOn.listenerPort("in"), AUTHORITY);

        System.out.println("# transport: benchmark client and upstream " + LoopbackTransport.name()
                + ", meshproxy " + io.meshproxy.core.internal.transport.Transport.name());
        System.out.println("# telemetry on: " + telemetry.sinks());
        // Fail the trial at once, not after minutes of measuring error responses.
        check("off", off());
        check("on", on());
    }

    private ProxyConfig proxyConfig() {
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder()
                        .name("in")
                        .port(0)
                        .routes(RouteConfiguration.builder()
                                .name("bench")
                                .virtualHost(VirtualHost.builder()
                                        .name("all")
                                        .domain("*")
                                        .route(Route.builder().name("default").action(RouteAction.to("backend")).build())
                                        .build())
                                .build())
                        .build())
                .cluster(ClusterConfig.builder().name("backend").endpoint("127.0.0.1", upstream.port()).build())
                .build();
    }

    /** A Zipkin collector that accepts and discards: 202 to every POST of spans, on its own thread. */
    private HttpServer startZipkinSink() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/api/v2/spans", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                zipkinBytes.add(in.transferTo(java.io.OutputStream.nullOutputStream()));
            }
            zipkinPosts.increment();
            exchange.sendResponseHeaders("POST".equals(exchange.getRequestMethod()) ? 202 : 405, -1);
            exchange.close();
        });
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "bench-zipkin");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        return server;
    }

    private static void check(String path, int bodyBytes) {
        if (bodyBytes != PAYLOAD) {
            throw new IllegalStateException(path + ": expected a " + PAYLOAD + "-byte body, got " + bodyBytes);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        ProxyLatencyBenchmark.closeQuietly(clientOff);
        ProxyLatencyBenchmark.closeQuietly(clientOn);
        if (clientGroup != null) {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        ProxyLatencyBenchmark.closeQuietly(proxyOff);
        ProxyLatencyBenchmark.closeQuietly(proxyOn);
        if (telemetry != null) {
            AccessLogger logger = null;
            for (TelemetrySink s : telemetry.sinks()) {
                if (s instanceof AccessLogger a) {
                    logger = a;
                }
            }
            ProxyLatencyBenchmark.closeQuietly(telemetry); // flushes spans and log lines
            if (logger != null) {
                System.out.println("# access log: " + logger.writtenLines() + " lines written, "
                        + logger.droppedLines() + " dropped, " + Files.size(accessLog) + " bytes");
            }
        }
        if (zipkin != null) {
            zipkin.stop(0);
            System.out.println("# zipkin: " + zipkinPosts.sum() + " POSTs, " + zipkinBytes.sum() + " bytes of spans");
        }
        ProxyLatencyBenchmark.closeQuietly(upstream);
        if (accessLog != null) {
            Files.deleteIfExists(accessLog);
        }
    }

    /** Client → listener without telemetry → upstream. Returns the response body length. */
    @Benchmark
    public int off() throws Exception {
        return roundTrip(clientOff);
    }

    /** Client → listener with metrics, 1% tracing and 10% access logs → upstream. */
    @Benchmark
    public int on() throws Exception {
        return roundTrip(clientOn);
    }

    /** {@link #off} in round trips per second. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int offThroughput() throws Exception {
        return roundTrip(clientOff);
    }

    /** {@link #on} in round trips per second. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int onThroughput() throws Exception {
        return roundTrip(clientOn);
    }

    private static int roundTrip(KeepAliveClient client) throws Exception {
        CompletableFuture<KeepAliveClient.Response> f = client.get(PATH);
        KeepAliveClient.Response r = f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (r.status() != 200) {
            throw new IllegalStateException("status " + r.status());
        }
        return r.bodyBytes();
    }
}
