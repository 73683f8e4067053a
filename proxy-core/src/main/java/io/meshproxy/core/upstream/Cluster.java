package io.meshproxy.core.upstream;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.SubsetConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.internal.transport.EndpointPool;
import io.meshproxy.core.internal.transport.HealthChecker;
import io.meshproxy.core.internal.transport.Http1Pool;
import io.meshproxy.core.internal.transport.Http2Pool;
import io.meshproxy.core.internal.transport.UpstreamCall;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.resilience.ClusterBreaker;
import java.time.Clock;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The runtime of one cluster: its hosts (shared by all event loops), its subsets, and per event loop the
 * load balancers and connection pools, so that picking a host and finding a connection take no lock and a
 * request's upstream connection lives on the request's own event loop.
 */
public final class Cluster {
    /** Envoy's default {@code healthy_panic_threshold}, used when the cluster has no outlier detection. */
    public static final int DEFAULT_PANIC_THRESHOLD = 50;

    private final ClusterConfig config;
    private final List<Host> hosts;
    private final Map<String, List<Host>> subsets;
    private final ConcurrentHashMap<ScheduledExecutorService, LoopState> loops = new ConcurrentHashMap<>();
    private final ClusterResources resources;
    private final ClusterStats stats = new ClusterStats();
    private final ClusterBreaker breaker;
    private final io.meshproxy.core.tls.TransportSecurity security;
    /** Envoy's healthy_panic_threshold for this cluster's balancers (0: never panic). */
    private final int panicThreshold;
    private final ScheduledExecutorService scheduler;
    /** Null without {@code outlierDetection}. */
    private final OutlierDetector outlierDetector;
    /** Null without {@code healthCheck}. */
    private final HealthChecker healthChecker;
    private volatile boolean closed;
    /** Calls holding a replay buffer, to be ended if the cluster closes under them (see {@link #close()}). */
    private final java.util.Set<Runnable> openCalls = ConcurrentHashMap.newKeySet();
    private volatile boolean retired;

    /**
     * A cluster without timers, for configurations with neither outlier detection nor active health checks.
     *
     * @throws IllegalArgumentException when {@code config} has either (they need a scheduler)
     */
    public Cluster(ClusterConfig config) {
        this(config, null);
    }

    /**
     * A cluster whose outlier-detection sweep and active health checks run on {@code scheduler} (the proxy's
     * event-loop group) once {@link #start()}ed.
     *
     * @param scheduler the proxy's event loops; may be null only when the cluster has neither outlier detection
     *     nor health checking
     */
    /** As {@link #Cluster(ClusterConfig, ScheduledExecutorService, io.meshproxy.core.tls.TransportSecurity)}, plaintext. */
    public Cluster(ClusterConfig config, ScheduledExecutorService scheduler) {
        this(config, scheduler, null);
    }

    /**
     * @param security where the TLS engines of a TLS cluster come from; null when none is registered (a TLS
     *     cluster then fails its connects, 503 UF)
     */
    public Cluster(ClusterConfig config, ScheduledExecutorService scheduler,
            io.meshproxy.core.tls.TransportSecurity security) {
        this.security = security;
        if (scheduler == null && (config.outlierDetection() != null || config.healthCheck() != null)) {
            throw new IllegalArgumentException("cluster '" + config.name()
                    + "': outlier detection and health checks need a scheduler");
        }
        this.config = config;
        this.scheduler = scheduler;
        List<Host> hs = new ArrayList<>(config.endpoints().size());
        for (EndpointConfig e : config.endpoints()) {
            hs.add(new Host(e));
        }
        this.hosts = Collections.unmodifiableList(hs);
        Map<String, List<Host>> ss = new HashMap<>();
        for (SubsetConfig s : config.subsets()) {
            List<Host> selected = new ArrayList<>();
            for (Host h : hs) {
                if (h.labels().entrySet().containsAll(s.labels().entrySet())) {
                    selected.add(h);
                }
            }
            ss.put(s.name(), Collections.unmodifiableList(selected));
        }
        this.subsets = ss;
        this.resources = new ClusterResources(config.circuitBreakers());
        this.breaker = config.failureRateBreaker() == null ? null
                : new ClusterBreaker(config.name(), config.failureRateBreaker(), Clock.systemUTC());
        this.panicThreshold = config.outlierDetection() != null ? config.outlierDetection().minHealthPercent()
                : DEFAULT_PANIC_THRESHOLD;
        this.outlierDetector = config.outlierDetection() == null ? null
                : new OutlierDetector(config.outlierDetection(), this.hosts, stats, System::nanoTime);
        this.healthChecker = config.healthCheck() == null ? null
                : new HealthChecker(config.name(), config.healthCheck(), this.hosts, stats, scheduler,
                        config.connectTimeout());
    }

    /**
     * Starts the outlier-detection sweep and the active health checks, if configured. Idempotent; a cluster
     * that is never started (a rejected configuration update) holds no timer or connection.
     */
    public void start() {
        if (closed || retired) {
            return;
        }
        if (outlierDetector != null) {
            outlierDetector.start(scheduler);
        }
        if (healthChecker != null) {
            healthChecker.start();
        }
    }

    /** This cluster's outlier detection; null when not configured. */
    public OutlierDetector outlierDetector() {
        return outlierDetector;
    }

    /** The panic threshold of this cluster's balancers, in percent of healthy hosts (0: never panic). */
    public int panicThreshold() {
        return panicThreshold;
    }

    /** The cluster-wide counters of the circuit-breaker thresholds. */
    public ClusterResources resources() {
        return resources;
    }

    /** Envoy-style statistics of this cluster. */
    public ClusterStats stats() {
        return stats;
    }

    /**
     * Told of the outcome of every attempt to {@code host} (from any event loop), as the response classifier
     * decided it: outlier detection and the failure-rate breaker learn from it.
     */
    public void recordOutcome(Host host, io.meshproxy.core.resilience.Outcome outcome, long durationNanos) {
        if (outlierDetector != null) {
            outlierDetector.report(host, outcome);
        }
    }

    public String name() {
        return config.name();
    }

    public ClusterConfig config() {
        return config;
    }

    public List<Host> hosts() {
        return hosts;
    }

    /** The hosts of subset {@code name}; null for an undefined subset. */
    public List<Host> subset(String name) {
        return subsets.get(name);
    }

    /**
     * Picks a healthy host of the cluster, or of {@code subset} when not null, with the balancer of the
     * calling event loop; below the panic threshold, any host (Envoy's panic mode). Null when none is healthy
     * and panic is off.
     */
    public Host pick(ScheduledExecutorService eventLoop, String subset) {
        LoopState s = loop(eventLoop);
        LoadBalancer lb = subset == null ? s.all : s.subsets.get(subset);
        return lb == null ? null : lb.pick();
    }

    /**
     * Sends {@code request} to {@code subset} (null for all) of this cluster, with the route's retry policy and
     * timeout: picks endpoints, applies the thresholds and the breaker, retries. The future completes with the
     * response head (its body streaming) or fails with a {@link io.meshproxy.core.http.LocalReplyException}
     * (503 UH / UO / UCB / UF / UC / UR, 504 UT, ...). Call on the request's event loop.
     *
     * @param retry the retry policy, or null for none
     * @param timeout the route timeout, zero for none
     */
    public CompletableFuture<HttpResponse> forward(RequestContext ctx, HttpRequest request, String subset,
            RetryPolicy retry, Duration timeout) {
        return UpstreamCall.start(ctx, request, this, subset, retry, timeout);
    }

    /** This event loop's pool of connections to {@code host} (internal: the upstream call uses it). */
    public EndpointPool pool(EventLoop loop, Host host) {
        assert loop.inEventLoop();
        LoopState s = loop(loop);
        EndpointPool pool = s.pools.get(host);
        if (pool == null) {
            pool = newPool(loop, host);
            s.pools.put(host, pool);
            if (closed) {
                pool.close();
            } else if (retired) {
                pool.retire();
            }
        }
        return pool;
    }

    /**
     * Registers {@code onClose}, run (once, from the closing thread) if this cluster closes before
     * {@link #untrack} — how a call that holds request buffers learns that its connections will never report
     * back (a stream stalled forever at shutdown). Internal: the upstream call uses it.
     */
    public void track(Runnable onClose) {
        openCalls.add(onClose);
        if (closed && openCalls.remove(onClose)) {
            onClose.run();
        }
    }

    public void untrack(Runnable onClose) {
        openCalls.remove(onClose);
    }

    /** Whether {@link #close()} was called: the proxy is stopping, nothing is retried any more. */
    public boolean closed() {
        return closed;
    }

    /** The failure-rate breaker, or null when the cluster has none. */
    public ClusterBreaker breaker() {
        return breaker;
    }

    /** The breaker's state for the admin API: CLOSED, OPEN, HALF_OPEN, or DISABLED when there is none. */
    public String breakerState() {
        return breaker == null ? "DISABLED" : breaker.state();
    }

    private EndpointPool newPool(EventLoop loop, Host host) {
        return config.protocol() == UpstreamProtocol.HTTP2
                ? new Http2Pool(loop, host, config, resources, stats, security)
                : new Http1Pool(loop, host, config, resources, stats, security);
    }

    private LoopState loop(ScheduledExecutorService eventLoop) {
        LoopState s = loops.get(eventLoop);
        if (s == null) {
            s = loops.computeIfAbsent(eventLoop, l -> new LoopState());
        }
        return s;
    }

    /**
     * This cluster was replaced by a configuration update: its connections close as their requests end
     * (requests that started under the old configuration still complete here), idle ones at once.
     */
    public void retire() {
        retired = true;
        stopHealth();
        loops.forEach((loop, state) -> loop.execute(() -> state.pools.values().forEach(EndpointPool::retire)));
    }

    /** Closes every pool, each on its own event loop. */
    public void close() {
        closed = true;
        for (Runnable onClose : openCalls) {
            if (openCalls.remove(onClose)) {
                onClose.run();
            }
        }
        stopHealth();
        loops.forEach((loop, state) -> loop.execute(() -> state.pools.values().forEach(EndpointPool::close)));
    }

    private void stopHealth() {
        if (outlierDetector != null) {
            outlierDetector.close();
        }
        if (healthChecker != null) {
            healthChecker.close();
        }
    }

    private final class LoopState {
        final LoadBalancer all;
        final Map<String, LoadBalancer> subsets = new HashMap<>();
        final Map<Host, EndpointPool> pools = new IdentityHashMap<>();

        LoopState() {
            all = LoadBalancers.create(config.lbPolicy(), hosts, null, panicThreshold, stats.lbHealthyPanic);
            Cluster.this.subsets.forEach((name, hs) -> subsets.put(name,
                    LoadBalancers.create(config.lbPolicy(), hs, null, panicThreshold, stats.lbHealthyPanic)));
        }
    }
}
