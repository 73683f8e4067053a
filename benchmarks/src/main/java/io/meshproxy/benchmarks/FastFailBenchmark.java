package io.meshproxy.benchmarks;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.FailureRateBreaker;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.upstream.Cluster;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
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
 * How fast a request is failed when its cluster cannot take it, end to end through a meshproxy listener on
 * loopback, next to a normal round trip in the same run. Sample-time mode (µs; JMH prints p50 ... p99.99):
 * <ul>
 *   <li>{@link #direct}: the benchmark's client straight to the upstream (200), the floor of any loopback
 *       round trip;</li>
 *   <li>{@link #listener}: the same client through the listener to the same upstream (200), the normal path;</li>
 *   <li>{@link #breakerOpen}: to a cluster whose failure-rate breaker ({@link FailureRateBreaker}) is open:
 *       every request is answered 503 {@code upstream circuit breaker open} (flag UCB) by the proxy, without
 *       touching the upstream;</li>
 *   <li>{@link #overflow}: to a cluster whose {@link CircuitBreakers#maxRequests()} is 1 while one request is
 *       held in flight for the whole trial: every request is answered 503 {@code upstream overflow} (flag UO)
 *       at once.</li>
 * </ul>
 * The fast-fail cost of the proxy is {@code breakerOpen - direct} (and {@code overflow - direct}) at the same
 * percentile: both are one loopback round trip, one with the proxy answering, one with the upstream.
 *
 * <p>Setup proves the fast-fail paths are what is measured, and throws otherwise: the breaker is opened by ten
 * 500s from a dedicated upstream (window of 10, threshold 50%, one hour in open state) and must report OPEN;
 * the held request must be in flight at the upstream and counted by the cluster; one request of each path
 * must come back 503 with the expected reply text, counted by the cluster's {@code upstream_rq_breaker_open}
 * or {@code upstream_rq_overflow}, with nothing more reaching the upstream. Each measured request checks the
 * status and the length of the reply; tear-down prints how many requests the upstreams saw.
 *
 * <p>Closed loop, one request outstanding at a time, as {@link ProxyLatencyBenchmark}; the benchmark thread,
 * the client loop, the proxy's one event loop and the upstream loops share the machine's cores.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Threads(1)
public class FastFailBenchmark {
    private static final String AUTHORITY = "upstream.bench";
    private static final String OK_PATH = "/bench";
    private static final String BREAKER_PATH = "/breaker";
    private static final String OVERFLOW_PATH = "/overflow";
    private static final String HOLD_PATH = OVERFLOW_PATH + "/hold";
    private static final String BREAKER_TEXT = "upstream circuit breaker open";
    private static final String OVERFLOW_TEXT = "upstream overflow";
    /** Failures that open the breaker: its window and minimum number of calls. */
    private static final int WINDOW = 10;
    private static final long TIMEOUT_SECONDS = 10;

    /** Bytes of the upstreams' response bodies (the fast-fail replies are 17 and 29 bytes). */
    @Param({"32"})
    public int payload;

    private FixedResponseUpstream upstream;
    private FixedResponseUpstream failing;
    private FixedResponseUpstream holder;
    private MeshProxy proxy;
    private Cluster broken;
    private Cluster limited;
    private EventLoopGroup clientGroup;
    private KeepAliveClient directClient;
    private KeepAliveClient listenerClient;
    private KeepAliveClient holdClient;
    private long failingReceivedAtStart;
    private long holderReceivedAtStart;
    private long breakerOpenAtStart;
    private long overflowAtStart;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        upstream = new FixedResponseUpstream(payload, "ok");
        failing = new FixedResponseUpstream(payload, "failing", 500, null);
        holder = new FixedResponseUpstream(payload, "holder", 200, HOLD_PATH);
        FailureRateBreaker breaker = FailureRateBreaker.builder()
                .failureRateThreshold(50)
                .slidingWindowSize(WINDOW)
                .minimumNumberOfCalls(WINDOW)
                .waitInOpenState(Duration.ofHours(1))
                .build();
        ProxyConfig config = ProxyConfig.builder()
                .listener(ListenerConfig.builder()
                        .name("in")
                        .port(0)
                        // The held request must outlive any trial.
                        .streamIdleTimeout(Duration.ofHours(1))
                        .routes(RouteConfiguration.builder()
                                .name("bench")
                                .virtualHost(VirtualHost.builder()
                                        .name("all")
                                        .domain("*")
                                        .route(Route.builder()
                                                .match(RouteMatch.builder().pathPrefix(BREAKER_PATH).build())
                                                .action(RouteAction.to("broken"))
                                                .build())
                                        .route(Route.builder()
                                                .match(RouteMatch.builder().pathPrefix(OVERFLOW_PATH).build())
                                                .action(RouteAction.to("limited"))
                                                .build())
                                        .route(Route.builder().action(RouteAction.to("backend")).build())
                                        .build())
                                .build())
                        .build())
                .cluster(ClusterConfig.builder().name("backend").endpoint("127.0.0.1", upstream.port()).build())
                .cluster(ClusterConfig.builder().name("broken").endpoint("127.0.0.1", failing.port())
                        .failureRateBreaker(breaker).build())
                .cluster(ClusterConfig.builder().name("limited").endpoint("127.0.0.1", holder.port())
                        .circuitBreakers(CircuitBreakers.DEFAULT.withMaxRequests(1)).build())
                .build();
        proxy = MeshProxy.builder().config(config).eventLoopThreads(1).build().start();
        broken = proxy.clusters().get("broken");
        limited = proxy.clusters().get("limited");
        clientGroup = LoopbackTransport.newGroup(1, "bench-client");
        directClient = new KeepAliveClient(clientGroup, upstream.port(), AUTHORITY);
        listenerClient = new KeepAliveClient(clientGroup, proxy.listenerPort("in"), AUTHORITY);
        holdClient = new KeepAliveClient(clientGroup, proxy.listenerPort("in"), AUTHORITY);
        System.out.println("# transport: benchmark client and upstreams " + LoopbackTransport.name()
                + ", meshproxy " + io.meshproxy.core.internal.transport.Transport.name());

        check(direct() == payload, "direct: expected a " + payload + "-byte body");
        check(listener() == payload, "listener: expected a " + payload + "-byte body");
        openBreaker();
        holdOneRequest();
        failingReceivedAtStart = failing.requestsReceived();
        holderReceivedAtStart = holder.requestsReceived();
        breakerOpenAtStart = broken.stats().upstreamRqBreakerOpen.sum();
        overflowAtStart = limited.stats().upstreamRqOverflow.sum();
    }

    /** Ten 500s through the listener open the breaker; then one request must fail fast with UCB. */
    private void openBreaker() throws Exception {
        for (int i = 0; i < WINDOW; i++) {
            KeepAliveClient.Response r = listenerClient.get(BREAKER_PATH).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            check(r.status() == 500, "breaker: the failing upstream's own answer must be 500, was " + r.status());
        }
        check("OPEN".equals(broken.breakerState()), "breaker: expected OPEN after " + WINDOW + " failures, was "
                + broken.breakerState());
        long received = failing.requestsReceived();
        KeepAliveClient.Response r = listenerClient.getText(BREAKER_PATH).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        check(r.status() == 503 && BREAKER_TEXT.equals(r.text()),
                "breaker: expected 503 '" + BREAKER_TEXT + "', got " + r.status() + " '" + r.text() + "'");
        check(failing.requestsReceived() == received, "breaker: the fast-failed request reached the upstream");
        check(broken.stats().upstreamRqBreakerOpen.sum() == 1, "breaker: upstream_rq_breaker_open must be 1, was "
                + broken.stats().upstreamRqBreakerOpen.sum());
    }

    /** One request to the hold path stays in flight (maxRequests 1); then one request must fail fast with UO. */
    private void holdOneRequest() throws Exception {
        CompletableFuture<KeepAliveClient.Response> held = holdClient.get(HOLD_PATH);
        awaitTrue(() -> holder.requestsHeld() == 1 && limited.resources().activeRequests() == 1,
                "overflow: the held request did not reach the upstream");
        check(!held.isDone(), "overflow: the held request was answered: " + held);
        KeepAliveClient.Response r = listenerClient.getText(OVERFLOW_PATH).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        check(r.status() == 503 && OVERFLOW_TEXT.equals(r.text()),
                "overflow: expected 503 '" + OVERFLOW_TEXT + "', got " + r.status() + " '" + r.text() + "'");
        check(holder.requestsReceived() == 1, "overflow: the fast-failed request reached the upstream");
        check(limited.stats().upstreamRqOverflow.sum() == 1, "overflow: upstream_rq_overflow must be 1, was "
                + limited.stats().upstreamRqOverflow.sum());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (failing != null && broken != null) {
            System.out.println("# breakerOpen: the failing upstream received "
                    + (failing.requestsReceived() - failingReceivedAtStart) + " requests during the trial, "
                    + "upstream_rq_breaker_open +" + (broken.stats().upstreamRqBreakerOpen.sum() - breakerOpenAtStart)
                    + ", breaker " + broken.breakerState());
        }
        if (holder != null && limited != null) {
            System.out.println("# overflow: the holding upstream received "
                    + (holder.requestsReceived() - holderReceivedAtStart) + " requests during the trial, "
                    + "upstream_rq_overflow +" + (limited.stats().upstreamRqOverflow.sum() - overflowAtStart)
                    + ", requests in flight " + limited.resources().activeRequests());
        }
        ProxyLatencyBenchmark.closeQuietly(holdClient);
        ProxyLatencyBenchmark.closeQuietly(directClient);
        ProxyLatencyBenchmark.closeQuietly(listenerClient);
        if (clientGroup != null) {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        ProxyLatencyBenchmark.closeQuietly(proxy);
        ProxyLatencyBenchmark.closeQuietly(holder);
        ProxyLatencyBenchmark.closeQuietly(failing);
        ProxyLatencyBenchmark.closeQuietly(upstream);
    }

    /** Client → upstream (200). Returns the response body length. */
    @Benchmark
    public int direct() throws Exception {
        return expect(directClient, OK_PATH, 200, payload);
    }

    /** Client → meshproxy listener → upstream (200). Returns the response body length. */
    @Benchmark
    public int listener() throws Exception {
        return expect(listenerClient, OK_PATH, 200, payload);
    }

    /** Client → meshproxy listener, breaker open → 503 UCB from the proxy. Returns the reply length. */
    @Benchmark
    public int breakerOpen() throws Exception {
        return expect(listenerClient, BREAKER_PATH, 503, BREAKER_TEXT.length());
    }

    /** Client → meshproxy listener, maxRequests reached → 503 UO from the proxy. Returns the reply length. */
    @Benchmark
    public int overflow() throws Exception {
        return expect(listenerClient, OVERFLOW_PATH, 503, OVERFLOW_TEXT.length());
    }

    private static int expect(KeepAliveClient client, String path, int status, int bodyBytes) throws Exception {
        KeepAliveClient.Response r = client.get(path).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (r.status() != status || r.bodyBytes() != bodyBytes) {
            throw new IllegalStateException(path + ": expected " + status + " with " + bodyBytes + " bytes, got "
                    + r.status() + " with " + r.bodyBytes());
        }
        return r.bodyBytes();
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException(message);
        }
    }

    /** Polls {@code condition} every millisecond for up to ten seconds; throws when it never holds. */
    private static void awaitTrue(BooleanSupplier condition, String message) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(message);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
