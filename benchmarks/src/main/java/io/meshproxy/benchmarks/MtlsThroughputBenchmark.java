package io.meshproxy.benchmarks;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.tls.DevCa;
import io.meshproxy.tls.HandshakeStats;
import io.meshproxy.tls.MeshTransportSecurity;
import io.meshproxy.tls.TlsContexts;
import io.meshproxy.tls.TlsOptions;
import io.meshproxy.tls.TlsProvider;
import io.meshproxy.tls.WorkloadIdentity;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Requests per second through meshproxy in plaintext and in mTLS, in one run, over {@link #connections}
 * keep-alive HTTP/1.1 connections (1 KB responses), so the cost of mTLS on an established connection (record
 * encryption and decryption on BoringSSL, not handshakes: the connections are opened once in set-up) is the ratio
 * of two scores of the same table. Four {@link #path}s:
 * <ul>
 *   <li>{@code listener-plaintext} and {@code listener-mtls}: the same PERMISSIVE inbound listener (it accepts
 *       both, as Istio's PeerAuthentication PERMISSIVE does), the same upstream; the clients speak plaintext, or
 *       TLS with a workload certificate of the mesh's CA (BoringSSL, {@code http/1.1} by ALPN).</li>
 *   <li>{@code pair-plaintext} and {@code pair-mtls}: two meshproxies as two sidecars, as a request between two
 *       workloads of a mesh travels: the client's outbound listener (plaintext from the application), a cluster
 *       to the other meshproxy's inbound listener with {@code ISTIO_MUTUAL} and a STRICT inbound listener, against
 *       the same two with no TLS (cluster without {@code tls}, inbound listener DISABLE).</li>
 * </ul>
 * One benchmark call sends one request on every connection and waits for all the responses (a closed loop with
 * {@link #connections} requests in flight); the auxiliary counter {@code requests} is requests per second, and
 * {@code cpuUsPerRequest} the CPU time of the whole JVM per request (which a busy machine inflates much less than
 * it deflates requests/s). Set-up checks that the mTLS paths really did their handshakes (and the plaintext ones none), so a misconfiguration
 * cannot compare plaintext with plaintext.
 *
 * <p>Threads: the benchmark thread, one client event loop, one event loop per meshproxy and one upstream event
 * loop share the machine's cores.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Threads(1)
public class MtlsThroughputBenchmark {
    private static final String AUTHORITY = "reviews.default.svc.cluster.local";
    private static final String PATH = "/reviews/1";
    private static final long TIMEOUT_SECONDS = 10;

    @Param({"listener-plaintext", "listener-mtls", "pair-plaintext", "pair-mtls"})
    public String path;

    /** Keep-alive connections, one request in flight on each. */
    @Param({"8"})
    public int connections;

    /** Response body bytes. */
    @Param({"1024"})
    public int payload;

    private FixedResponseUpstream upstream;
    private MeshTransportSecurity inboundSecurity;
    private MeshTransportSecurity outboundSecurity;
    private MeshProxy inbound;
    private MeshProxy outbound;
    private EventLoopGroup clientGroup;
    private KeepAliveClient[] clients;
    @SuppressWarnings("unchecked")
    private CompletableFuture<KeepAliveClient.Response>[] inFlight = new CompletableFuture[0];

    /** Requests completed, as a rate: the figure to compare between paths. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Requests {
        public long requests;
    }

    /**
     * CPU time of the whole JVM (client, meshproxies, upstream: everything the request touches) per request, in
     * microseconds: a figure a machine busy with other work inflates much less than requests/s. JMH adds up
     * {@code EVENTS} counters over the measurement iterations, so each iteration reports its figure divided by
     * the number of iterations: the table shows the mean.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Cpu {
        private static final com.sun.management.OperatingSystemMXBean OS =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long requests;
        long start;
        long cpuNanos;
        int iterations = 1;

        @Setup(Level.Iteration)
        public void reset(org.openjdk.jmh.infra.IterationParams iteration) {
            requests = 0;
            cpuNanos = 0;
            start = OS.getProcessCpuTime();
            iterations = Math.max(1, iteration.getCount());
        }

        void add(int n) {
            requests += n;
            cpuNanos = OS.getProcessCpuTime() - start;
        }

        public double cpuUsPerRequest() {
            return requests == 0 ? 0 : cpuNanos / 1000.0 / requests / iterations;
        }
    }

    @Setup(Level.Trial)
    @SuppressWarnings("unchecked")
    public void setUp() throws Exception {
        boolean mtls = path.endsWith("-mtls");
        boolean pair = path.startsWith("pair-");
        if (!mtls && !path.endsWith("-plaintext") || !pair && !path.startsWith("listener-")) {
            throw new IllegalArgumentException("path: listener-plaintext, listener-mtls, pair-plaintext or pair-mtls");
        }
        if (TlsContexts.availableProvider() != TlsProvider.OPENSSL) {
            throw new IllegalStateException("BoringSSL (netty-tcnative) does not load here; this benchmark measures it");
        }
        Path dir = Files.createTempDirectory("mtls-throughput-bench");
        DevCa ca = DevCa.create("cluster.local");
        WorkloadIdentity reviews = identity(dir, ca.workload("default", "reviews").issue());
        WorkloadIdentity productpage = identity(dir, ca.workload("default", "productpage").issue());
        upstream = new FixedResponseUpstream(payload);
        inboundSecurity = new MeshTransportSecurity(reviews, TlsOptions.defaults());
        DownstreamTlsMode inboundMode = pair ? (mtls ? DownstreamTlsMode.STRICT : DownstreamTlsMode.DISABLE)
                : DownstreamTlsMode.PERMISSIVE;
        inbound = MeshProxy.builder().transportSecurity(inboundSecurity).eventLoopThreads(1)
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("inbound").port(0).tlsMode(inboundMode)
                                .routes(allTo("app")).build())
                        .cluster(ClusterConfig.builder().name("app").endpoint("127.0.0.1", upstream.port()).build())
                        .build())
                .build().start();
        int target = inbound.listenerPort("inbound");
        SslContext clientTls = null;
        if (pair) {
            outboundSecurity = new MeshTransportSecurity(productpage, TlsOptions.defaults());
            ClusterConfig.Builder cluster = ClusterConfig.builder().name("reviews").endpoint("127.0.0.1", target);
            if (mtls) {
                cluster.tls(UpstreamTls.ISTIO_MUTUAL);
            }
            outbound = MeshProxy.builder().transportSecurity(outboundSecurity).eventLoopThreads(1)
                    .config(ProxyConfig.builder()
                            .listener(ListenerConfig.builder().name("outbound").port(0).routes(allTo("reviews")).build())
                            .cluster(cluster.build())
                            .build())
                    .build().start();
            target = outbound.listenerPort("outbound");
        } else if (mtls) {
            clientTls = TlsContexts.forClient(productpage, TlsOptions.builder().alpn("http/1.1").requireOpenSsl(true)
                    .build()).context();
        }
        clientGroup = LoopbackTransport.newGroup(1, "bench-client");
        clients = new KeepAliveClient[connections];
        inFlight = new CompletableFuture[connections];
        for (int i = 0; i < connections; i++) {
            clients[i] = new KeepAliveClient(clientGroup, target, AUTHORITY, clientTls);
        }
        // Fail the trial at once if a path is not what it claims to be.
        for (int i = 0; i < 4; i++) {
            allConnectionsOnce(new Requests(), new Cpu());
        }
        HandshakeStats.Snapshot in = inboundSecurity.serverStats().snapshot();
        if (mtls ? in.succeeded() < 1 : in.succeeded() != 0) {
            throw new IllegalStateException(path + ": inbound TLS handshakes " + in);
        }
        System.out.println("# " + path + ": inbound handshakes " + in + (outboundSecurity == null ? ""
                : ", outbound handshakes " + outboundSecurity.clientStats().snapshot()));
    }

    private static WorkloadIdentity identity(Path dir, DevCa.Issued issued) throws Exception {
        Path w = issued.writeTo(dir);
        return WorkloadIdentity.load(w.resolve("cert-chain.pem"), w.resolve("key.pem"), w.resolve("root-cert.pem"),
                "cluster.local");
    }

    private static RouteConfiguration allTo(String cluster) {
        return RouteConfiguration.builder().name(cluster)
                .virtualHost(VirtualHost.builder().name("all").domain("*")
                        .route(Route.builder().action(RouteAction.to(cluster)).build()).build())
                .build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (inboundSecurity != null) {
            // Handshakes over the whole trial: a count that grows with the requests means connections are not reused.
            System.out.println("# " + path + " at the end: inbound handshakes " + inboundSecurity.serverStats().snapshot()
                    + (outboundSecurity == null ? "" : ", outbound handshakes " + outboundSecurity.clientStats().snapshot()));
        }
        if (clients != null) {
            for (KeepAliveClient c : clients) {
                ProxyLatencyBenchmark.closeQuietly(c);
            }
        }
        if (clientGroup != null) {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        ProxyLatencyBenchmark.closeQuietly(outbound);
        ProxyLatencyBenchmark.closeQuietly(inbound);
        ProxyLatencyBenchmark.closeQuietly(upstream);
        if (outboundSecurity != null) {
            outboundSecurity.close();
        }
        if (inboundSecurity != null) {
            inboundSecurity.close();
        }
    }

    /** One GET on every connection, all in flight together; returns when every response is in. */
    @Benchmark
    public int allConnectionsOnce(Requests requests, Cpu cpu) throws Exception {
        for (int i = 0; i < clients.length; i++) {
            inFlight[i] = clients[i].get(PATH);
        }
        int bytes = 0;
        for (int i = 0; i < clients.length; i++) {
            KeepAliveClient.Response r = inFlight[i].get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            inFlight[i] = null;
            if (r.status() != 200 || r.bodyBytes() != payload) {
                throw new IllegalStateException(path + ": status " + r.status() + ", " + r.bodyBytes() + " bytes");
            }
            bytes += r.bodyBytes();
        }
        requests.requests += clients.length;
        cpu.add(clients.length);
        return bytes;
    }
}
