package io.meshproxy.benchmarks.harness;

import io.meshproxy.benchmarks.SidecarFootprint;
import io.meshproxy.benchmarks.harness.OpenLoopLoad.Target;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.VirtualHost;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One way from the load generator to the upstream: direct, through meshproxy (a sidecar process, two sidecar
 * processes with Istio mutual TLS between them, the in-process client), or through nginx or HAProxy. A
 * scenario is started once per run and measured many times, alternating with the others.
 */
public abstract class Scenario implements AutoCloseable {
    /** The {@code Host} of every request: the ServiceEntry host of the sidecars' configs. */
    public static final String AUTHORITY = SidecarFootprint.AUTHORITY;
    public static final String PATH = SidecarFootprint.PATH;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    /** What every scenario shares: the upstream, the sidecar jar, the worker count, the pinning, a temp dir. */
    /**
     * @param launcher the script the sidecars run through ({@code bin/meshproxy}: the JVM flags of a small sidecar,
     *     as users run it), or null for a plain {@code java -jar}
     */
    public record Setup(int upstreamPort, Path sidecarJar, Path launcher, int workers, List<String> proxyPrefix,
            Path work, Protocol protocol, int requestBytes) {}

    private final String name;
    private final int hops;

    protected Scenario(String name, int hops) {
        this.name = name;
        this.hops = hops;
    }

    /** {@code direct}, {@code sidecar}, {@code sidecar-2hop-mtls}, {@code in-process}, {@code nginx}, {@code haproxy}. */
    public final String name() {
        return name;
    }

    /** Proxies between the generator and the upstream: 0 direct, 2 for the two sidecars. */
    public final int hops() {
        return hops;
    }

    /** Where the load goes. */
    public abstract Target target();

    /** One line for the report: what runs, with how many workers. */
    public abstract String describe();

    /**
     * The proxy's processes, one list per proxy instance (the two sidecars are two instances; nginx's master and
     * workers are one); empty when the proxy runs in this JVM or there is none.
     */
    public List<List<ProcessHandle>> instances() {
        return List.of();
    }

    @Override
    public void close() {}

    /** Sends one request until it is answered 200 by the upstream, or fails after 60 s. */
    static void awaitServing(String name, Target target, EventLoopGroup group, ChildProcess... children)
            throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String last = "no answer";
        while (System.nanoTime() - deadline < 0) {
            for (ChildProcess c : children) {
                if (!c.process().isAlive()) {
                    throw new IllegalStateException(name + " exited with status " + c.process().exitValue()
                            + "; its output (" + c.log() + ") ends:\n" + Procfs.tail(c.log(), 15));
                }
            }
            try (OpenLoopLoad.Connection conn = target.connect(group)) {
                OpenLoopLoad.Reply r = conn.eventLoop().submit(conn::send).get(5, TimeUnit.SECONDS)
                        .get(5, TimeUnit.SECONDS);
                if (r.status() == 200 && LoadHarness.UPSTREAM_NAME.equals(r.upstream())) {
                    return;
                }
                last = "status " + r.status() + ", x-upstream " + r.upstream();
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                last = e.toString();
            }
            Thread.sleep(50); // polling a process that is starting: nothing to be notified by
        }
        StringBuilder logs = new StringBuilder();
        for (ChildProcess c : children) {
            logs.append("\n").append(c.log()).append(":\n").append(Procfs.tail(c.log(), 15));
        }
        throw new IllegalStateException(name + " did not serve within " + READY_TIMEOUT.toSeconds() + " s (last: "
                + last + ")" + logs);
    }

    static Target target(Setup setup, int port) {
        return setup.protocol() == Protocol.H2 ? Targets.h2c(port, AUTHORITY, PATH, setup.requestBytes())
                : Targets.http1(port, AUTHORITY, PATH, setup.requestBytes());
    }

    /**
     * The sidecar jar run with {@code args}: through the launcher script when there is one (it {@code exec}s the JVM,
     * and {@code env} execs the script, so the child's PID is the JVM's and /proc reads the proxy), else
     * {@code java -jar}.
     */
    static List<String> javaJar(Setup setup, String... args) {
        List<String> cmd = new ArrayList<>(setup.proxyPrefix());
        if (setup.launcher() != null) {
            cmd.add("env");
            cmd.add("MESHPROXY_JAR=" + setup.sidecarJar());
            cmd.add(setup.launcher().toString());
        } else {
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            cmd.add("-jar");
            cmd.add(setup.sidecarJar().toString());
        }
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** How the sidecars' JVM is started, for the descriptions. */
    static String launch(Setup setup) {
        return setup.launcher() != null ? "`" + setup.launcher().getFileName() + "` (its small-footprint JVM flags)"
                : "`java -jar` (default JVM flags)";
    }

    // ------------------------------------------------------------------ direct

    /** The generator straight to the upstream: the baseline every added latency is measured against. */
    static final class Direct extends Scenario {
        private final Target target;

        Direct(Setup setup) {
            super("direct", 0);
            this.target = target(setup, setup.upstreamPort());
        }

        @Override
        public Target target() {
            return target;
        }

        @Override
        public String describe() {
            return "generator → upstream";
        }
    }

    // ------------------------------------------------------------------ in-process

    /**
     * {@code MeshProxy.client()} in the harness JVM: the filter chain, router, cluster, balancer and pool of a
     * listener, no socket between the caller and the mesh. Its event loops are the harness JVM's, so its CPU
     * cannot be told apart from the generator's: not reported.
     */
    static final class InProcess extends Scenario {
        private final MeshProxy proxy;
        private final Target target;
        private final int workers;

        InProcess(Setup setup, EventLoopGroup group) throws InterruptedException {
            super("in-process", 1);
            this.workers = setup.workers();
            ProxyConfig config = ProxyConfig.builder()
                    .listener(ListenerConfig.builder()
                            .name("in")
                            .address("127.0.0.1")
                            .port(0)
                            .routes(RouteConfiguration.builder()
                                    .name("harness")
                                    .virtualHost(VirtualHost.builder()
                                            .name("reviews")
                                            .domain("*")
                                            .route(Route.builder().action(RouteAction.to("reviews")).build())
                                            .build())
                                    .build())
                            .build())
                    .cluster(ClusterConfig.builder().name("reviews").endpoint("127.0.0.1", setup.upstreamPort()).build())
                    .build();
            this.proxy = MeshProxy.builder().config(config).eventLoopThreads(workers).build().start();
            this.target = Targets.inProcess(proxy.client(), AUTHORITY, PATH, setup.requestBytes());
            awaitServing(name(), target, group);
        }

        @Override
        public Target target() {
            return target;
        }

        @Override
        public String describe() {
            return "`MeshProxy.client()` in the harness JVM, " + workers + " event loop(s), no telemetry";
        }

        @Override
        public void close() {
            proxy.close();
        }
    }

    // ------------------------------------------------------------------ one sidecar

    /** {@code java -jar meshproxy.jar run -c DIR}: an OUTBOUND listener, a ServiceEntry to the upstream, metrics on. */
    static final class Sidecar extends Scenario {
        private final ChildProcess child;
        private final Target target;
        private final List<String> command;

        Sidecar(Setup setup, EventLoopGroup group) throws IOException, InterruptedException {
            super("sidecar", 1);
            Path dir = Files.createDirectories(setup.work().resolve("sidecar"));
            int admin = Procfs.freePort();
            int outbound = Procfs.freePort();
            Files.writeString(dir.resolve("proxy.yaml"), SidecarFootprint.proxyYaml(admin, outbound));
            Files.writeString(dir.resolve("upstream.yaml"), SidecarFootprint.serviceEntryYaml(setup.upstreamPort()));
            command = javaJar(setup, "run", "-c", dir.toString(), "--concurrency", Integer.toString(setup.workers()));
            child = ChildProcess.start(command, setup.work().resolve("sidecar.log"));
            target = target(setup, outbound);
            try {
                awaitServing(name(), target, group, child);
            } catch (RuntimeException | InterruptedException e) {
                child.close();
                throw e;
            }
        }

        @Override
        public Target target() {
            return target;
        }

        @Override
        public String describe() {
            return "`" + String.join(" ", command) + "` (Istio metrics on, the default)";
        }

        @Override
        public List<List<ProcessHandle>> instances() {
            return List.of(List.of(child.measured()));
        }

        @Override
        public void close() {
            child.close();
        }
    }

    // ------------------------------------------------------------------ two sidecars, mutual TLS

    /**
     * Istio's own benchmark: client → sidecar of {@code default/productpage} (OUTBOUND; a DestinationRule says
     * ISTIO_MUTUAL) → mutual TLS → sidecar of {@code default/reviews} (INBOUND, STRICT by a PeerAuthentication)
     * → upstream. The certificates come from {@code meshproxy.jar certs}, run once per harness run.
     */
    static final class TwoHopMutualTls extends Scenario {
        private final ChildProcess server;
        private final ChildProcess client;
        private final Target target;
        private final int workers;
        private final String launch;

        TwoHopMutualTls(Setup setup, EventLoopGroup group) throws IOException, InterruptedException {
            super("sidecar-2hop-mtls", 2);
            this.workers = setup.workers();
            this.launch = launch(setup);
            Path certs = setup.work().resolve("certs");
            List<String> certsCommand = javaJar(setup, "certs", "--out", certs.toString(), "--trust-domain",
                    "cluster.local", "--workload", "default/reviews", "--workload", "default/productpage");
            Path certsLog = setup.work().resolve("certs.log");
            try (ChildProcess c = ChildProcess.start(certsCommand, certsLog)) {
                if (!c.process().waitFor(60, TimeUnit.SECONDS) || c.process().exitValue() != 0) {
                    throw new IllegalStateException("`" + String.join(" ", certsCommand) + "` failed:\n"
                            + Procfs.tail(certsLog, 15));
                }
            }
            Path serverDir = Files.createDirectories(setup.work().resolve("sidecar-reviews"));
            Path clientDir = Files.createDirectories(setup.work().resolve("sidecar-productpage"));
            int serverAdmin = Procfs.freePort();
            int inbound = Procfs.freePort();
            int clientAdmin = Procfs.freePort();
            int outbound = Procfs.freePort();
            Files.writeString(serverDir.resolve("proxy.yaml"), """
                    apiVersion: meshproxy.io/v1alpha1
                    kind: Proxy
                    metadata: {name: reviews, namespace: default}
                    spec:
                      admin: {address: 127.0.0.1, port: %d}
                      listeners:
                      - {name: inbound, address: 127.0.0.1, port: %d, direction: INBOUND, forwardTo: "127.0.0.1:%d"}
                      workload: {name: reviews-v1, app: reviews, version: v1, serviceAccount: reviews}
                      identity:
                        certificateChain: %s
                        privateKey: %s
                        trustBundle: %s
                    ---
                    apiVersion: security.istio.io/v1
                    kind: PeerAuthentication
                    metadata: {name: default, namespace: default}
                    spec:
                      mtls: {mode: STRICT}
                    """.formatted(serverAdmin, inbound, setup.upstreamPort(), certs.resolve("default-reviews/cert-chain.pem"),
                    certs.resolve("default-reviews/key.pem"), certs.resolve("root-cert.pem")));
            Files.writeString(clientDir.resolve("proxy.yaml"), """
                    apiVersion: meshproxy.io/v1alpha1
                    kind: Proxy
                    metadata: {name: productpage, namespace: default}
                    spec:
                      admin: {address: 127.0.0.1, port: %d}
                      listeners:
                      - {name: outbound, address: 127.0.0.1, port: %d, direction: OUTBOUND}
                      workload: {name: productpage-v1, app: productpage, version: v1, serviceAccount: productpage}
                      identity:
                        certificateChain: %s
                        privateKey: %s
                        trustBundle: %s
                    ---
                    apiVersion: networking.istio.io/v1
                    kind: ServiceEntry
                    metadata: {name: reviews}
                    spec:
                      hosts: [reviews.default.svc.cluster.local]
                      ports: [{number: 9080, name: http, protocol: HTTP}]
                      resolution: STATIC
                      endpoints:
                      - {address: 127.0.0.1, ports: {http: %d}}
                    ---
                    apiVersion: networking.istio.io/v1
                    kind: DestinationRule
                    metadata: {name: reviews}
                    spec:
                      host: reviews
                      trafficPolicy:
                        tls: {mode: ISTIO_MUTUAL}
                    """.formatted(clientAdmin, outbound, certs.resolve("default-productpage/cert-chain.pem"),
                    certs.resolve("default-productpage/key.pem"), certs.resolve("root-cert.pem"), inbound));
            String concurrency = Integer.toString(workers);
            server = ChildProcess.start(javaJar(setup, "run", "-c", serverDir.toString(), "--concurrency", concurrency),
                    setup.work().resolve("sidecar-reviews.log"));
            ChildProcess started = null;
            try {
                started = ChildProcess.start(javaJar(setup, "run", "-c", clientDir.toString(), "--concurrency",
                        concurrency), setup.work().resolve("sidecar-productpage.log"));
                target = target(setup, outbound);
                awaitServing(name(), target, group, server, started);
            } catch (IOException | RuntimeException | InterruptedException e) {
                if (started != null) {
                    started.close();
                }
                server.close();
                throw e;
            }
            client = started;
        }

        @Override
        public Target target() {
            return target;
        }

        @Override
        public String describe() {
            return "two `meshproxy.jar run` processes through " + launch + ", " + workers
                    + " event loop(s) each: OUTBOUND (DestinationRule"
                    + " ISTIO_MUTUAL) → mTLS → INBOUND (PeerAuthentication STRICT); Istio metrics on in both";
        }

        @Override
        public List<List<ProcessHandle>> instances() {
            return List.of(List.of(client.measured()), List.of(server.measured()));
        }

        @Override
        public void close() {
            client.close();
            server.close();
        }
    }

    // ------------------------------------------------------------------ peers

    /** A reverse proxy started from a config file written into the run's temp dir. */
    abstract static class Peer extends Scenario {
        private ChildProcess child;
        private Target target;
        private List<String> command;

        Peer(String name) {
            super(name, 1);
        }

        final void start(Setup setup, EventLoopGroup group, List<String> command, int port)
                throws IOException, InterruptedException {
            this.command = new ArrayList<>(setup.proxyPrefix());
            this.command.addAll(command);
            child = ChildProcess.start(this.command, setup.work().resolve(name() + ".log"));
            target = target(setup, port);
            try {
                awaitServing(name(), target, group, child);
            } catch (RuntimeException | InterruptedException e) {
                child.close();
                throw e;
            }
        }

        @Override
        public Target target() {
            return target;
        }

        String command() {
            return "`" + String.join(" ", command) + "`";
        }

        @Override
        public List<List<ProcessHandle>> instances() {
            return List.of(child.tree());
        }

        @Override
        public void close() {
            child.close();
        }
    }

    /**
     * nginx as a reverse proxy: {@code worker_processes} = the workers, keep-alive to the upstream
     * ({@code keepalive} in the upstream block, HTTP/1.1, {@code Connection: ""}), no access log, foreground
     * ({@code daemon off}), pid, logs and temp files in the run's temp dir.
     */
    static final class Nginx extends Peer {
        private final int workers;

        Nginx(Setup setup, EventLoopGroup group) throws IOException, InterruptedException {
            super("nginx");
            this.workers = setup.workers();
            Path dir = Files.createDirectories(setup.work().resolve("nginx"));
            int port = Procfs.freePort();
            String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
            Files.writeString(dir.resolve("nginx.conf"), user + """
                    worker_processes %d;
                    pid %s/nginx.pid;
                    error_log %s/error.log warn;
                    events { worker_connections 4096; }
                    http {
                      access_log off;
                      client_body_temp_path %s/client_body;
                      proxy_temp_path %s/proxy;
                      fastcgi_temp_path %s/fastcgi;
                      uwsgi_temp_path %s/uwsgi;
                      scgi_temp_path %s/scgi;
                      keepalive_requests 1000000;
                      keepalive_timeout 300s;
                      upstream harness_upstream {
                        server 127.0.0.1:%d;
                        keepalive 128;
                        keepalive_requests 1000000;
                      }
                      server {
                        listen 127.0.0.1:%d%s;
                        location / {
                          proxy_pass http://harness_upstream;
                          proxy_http_version 1.1;
                          proxy_set_header Connection "";
                          proxy_buffering off;
                        }
                      }
                    }
                    """.formatted(workers, dir, dir, dir, dir, dir, dir, dir, setup.upstreamPort(), port,
                    setup.protocol() == Protocol.H2 ? " http2" : ""));
            start(setup, group, List.of("nginx", "-p", dir + "/", "-c", dir.resolve("nginx.conf").toString(), "-g",
                    "daemon off;"), port);
        }

        @Override
        public String describe() {
            return command() + ", `worker_processes " + workers + "`, keep-alive to the upstream";
        }
    }

    /**
     * HAProxy in HTTP mode: {@code nbthread} = the workers, {@code http-reuse always} (connections to the
     * upstream kept and shared), foreground ({@code -db}), pid file in the run's temp dir, no logging.
     */
    static final class Haproxy extends Peer {
        private final int workers;

        Haproxy(Setup setup, EventLoopGroup group) throws IOException, InterruptedException {
            super("haproxy");
            this.workers = setup.workers();
            Path dir = Files.createDirectories(setup.work().resolve("haproxy"));
            int port = Procfs.freePort();
            Files.writeString(dir.resolve("haproxy.cfg"), """
                    global
                      nbthread %d
                      maxconn 4096
                      pidfile %s/haproxy.pid
                    defaults
                      mode http
                      timeout connect 5s
                      timeout client 60s
                      timeout server 60s
                      option http-keep-alive
                      http-reuse always
                    frontend harness
                      bind 127.0.0.1:%d%s
                      default_backend upstream
                    backend upstream
                      server up 127.0.0.1:%d
                    """.formatted(workers, dir, port, setup.protocol() == Protocol.H2 ? " proto h2" : "",
                    setup.upstreamPort()));
            start(setup, group, List.of("haproxy", "-db", "-f", dir.resolve("haproxy.cfg").toString()), port);
        }

        @Override
        public String describe() {
            return command() + ", `nbthread " + workers + "`, `http-reuse always`";
        }
    }
}
