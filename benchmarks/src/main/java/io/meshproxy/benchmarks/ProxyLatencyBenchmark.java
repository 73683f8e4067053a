package io.meshproxy.benchmarks;

import io.meshproxy.core.MeshClient;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.http.AggregatedBody;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.HttpRequest;
import io.netty.channel.EventLoopGroup;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One HTTP/1.1 request/response round trip on loopback, three ways, in one run:
 * <ul>
 *   <li>{@link #direct}: the benchmark's Netty client straight to the upstream;</li>
 *   <li>{@link #listener}: the same client to a meshproxy listener, which routes to the same upstream;</li>
 *   <li>{@link #inProcess}: {@link MeshClient#execute} (no socket between caller and mesh) to the same
 *       upstream, aggregating the response body.</li>
 * </ul>
 * Sample-time mode, so JMH reports percentiles (p50 ... p99.99). Added latency of the proxy = listener minus
 * direct (and inProcess minus direct) at the same percentile, from the same run.
 *
 * <p>Closed loop: one request outstanding at a time, the next sent when the previous response is in. This
 * measures service time under no queueing, not latency under a given offered load (coordinated omission
 * applies); the open-loop harness is a separate instrument.
 *
 * <p>Threads: the benchmark thread, one client event loop, one proxy event loop and one upstream event loop
 * share the machine's cores.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Threads(1)
public class ProxyLatencyBenchmark {
    private static final String AUTHORITY = "upstream.bench";
    private static final String PATH = "/bench";
    private static final long TIMEOUT_SECONDS = 10;

    /** Bytes of the response body (and of the request body for POST). */
    @Param({"1024"})
    public int payload;

    /** GET (empty request, {@code payload}-byte response) or POST ({@code payload} bytes each way). */
    @Param({"GET", "POST"})
    public String method;

    private FixedResponseUpstream upstream;
    private MeshProxy proxy;
    private MeshClient meshClient;
    private EventLoopGroup clientGroup;
    private KeepAliveClient directClient;
    private KeepAliveClient listenerClient;
    private byte[] requestBody;
    private boolean post;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        post = switch (method) {
            case "GET" -> false;
            case "POST" -> true;
            default -> throw new IllegalArgumentException("method: GET or POST, was " + method);
        };
        requestBody = new byte[payload];
        Arrays.fill(requestBody, (byte) 'y');
        upstream = new FixedResponseUpstream(payload);
        ProxyConfig config = ProxyConfig.builder()
                .listener(ListenerConfig.builder()
                        .name("in")
                        .port(0)
                        .routes(RouteConfiguration.builder()
                                .name("bench")
                                .virtualHost(VirtualHost.builder()
                                        .name("all")
                                        .domain("*")
                                        .route(Route.builder().action(RouteAction.to("backend")).build())
                                        .build())
                                .build())
                        .build())
                .cluster(ClusterConfig.builder().name("backend").endpoint("127.0.0.1", upstream.port()).build())
                .build();
        proxy = MeshProxy.builder().config(config).eventLoopThreads(1).build().start();
        meshClient = proxy.client();
        clientGroup = LoopbackTransport.newGroup(1, "bench-client");
        directClient = new KeepAliveClient(clientGroup, upstream.port(), AUTHORITY);
        listenerClient = new KeepAliveClient(clientGroup, proxy.listenerPort("in"), AUTHORITY);

        System.out.println("# transport: benchmark client and upstream " + LoopbackTransport.name()
                + ", meshproxy " + io.meshproxy.core.internal.transport.Transport.name());
        // Fail the trial at once, not after minutes of measuring error responses.
        check("direct", direct());
        check("listener", listener());
        check("inProcess", inProcess());
    }

    private void check(String path, int bodyBytes) {
        if (bodyBytes != payload) {
            throw new IllegalStateException(path + ": expected a " + payload + "-byte body, got " + bodyBytes);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        closeQuietly(directClient);
        closeQuietly(listenerClient);
        if (clientGroup != null) {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        closeQuietly(proxy);
        closeQuietly(upstream);
    }

    /** Client → upstream. Returns the response body length. */
    @Benchmark
    public int direct() throws Exception {
        return roundTrip(directClient);
    }

    /** Client → meshproxy listener → upstream. Returns the response body length. */
    @Benchmark
    public int listener() throws Exception {
        return roundTrip(listenerClient);
    }

    /** In-process client → meshproxy (filter chain, router, pool) → upstream, body aggregated. */
    @Benchmark
    public int inProcess() throws Exception {
        HttpRequest request = post
                ? HttpRequest.post(AUTHORITY, PATH, Body.of(requestBody))
                : HttpRequest.get(AUTHORITY, PATH);
        CompletableFuture<AggregatedBody> body = meshClient.execute(request)
                .thenCompose(r -> {
                    if (r.status() != 200) {
                        r.body().discard();
                        throw new IllegalStateException("status " + r.status() + " " + r.headers());
                    }
                    return r.body().aggregate(payload);
                });
        return body.get(TIMEOUT_SECONDS, TimeUnit.SECONDS).bytes().length;
    }

    private int roundTrip(KeepAliveClient client) throws Exception {
        CompletableFuture<KeepAliveClient.Response> f = post ? client.post(PATH, requestBody) : client.get(PATH);
        KeepAliveClient.Response r = f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (r.status() != 200) {
            throw new IllegalStateException("status " + r.status());
        }
        return r.bodyBytes();
    }

    /** Closes {@code c} (null allowed) and reports a failure without throwing: for tear-downs. */
    static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            System.err.println("close " + c + ": " + e);
        }
    }
}
