package io.meshproxy.core;

import io.meshproxy.core.internal.admin.AdminServer;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ConfigException;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.filter.DefaultFilterChain;
import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestLogListener;
import io.meshproxy.core.internal.transport.ListenerRuntime;
import io.meshproxy.core.internal.transport.ListenerServer;
import io.meshproxy.core.internal.transport.Transport;
import io.meshproxy.core.routing.RouteTable;
import io.meshproxy.core.routing.Router;
import io.meshproxy.core.upstream.Cluster;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A running meshproxy: listeners, clusters, the admin server and the in-process client, over one group of
 * event loops (one per core by default). Build it, {@link #start()} it, {@link #close()} it.
 *
 * <pre>{@code
 * MeshProxy proxy = MeshProxy.builder().config(config).build().start();
 * HttpResponse r = proxy.client().send(HttpRequest.get("reviews", "/reviews/1"));
 * }</pre>
 */
public final class MeshProxy implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MeshProxy.class);

    private final EventLoopGroup group;
    private final List<HttpFilter> filters;
    private final Map<String, HttpService> handlers;
    private final List<RequestLogListener> logListeners;
    private final io.meshproxy.core.filter.RequestEventListener events;
    private final Map<String, AdminEndpoint> adminEndpoints;
    private final io.meshproxy.core.tls.TransportSecurity security;
    private final Map<String, ListenerServer> servers = new LinkedHashMap<>();
    /** Copy-on-write: replaced whole by {@link #update}, read without a lock by the in-process client. */
    private volatile Map<String, ListenerRuntime> runtimes;
    private final long startedAtMillis = System.currentTimeMillis();
    private volatile ProxyConfig config;
    private volatile Map<String, Cluster> clusters;
    private volatile String versionInfo = "0";
    private AdminServer admin;
    private volatile State state = State.INITIALIZING;

    /** A listener that wants TLS or a TLS cluster, without a TransportSecurity: a configuration error. */
    private static void requireSecurityWhereNeeded(ProxyConfig cfg, io.meshproxy.core.tls.TransportSecurity security) {
        if (security != null) {
            return;
        }
        List<String> errors = new ArrayList<>();
        for (ListenerConfig l : cfg.listeners()) {
            if (l.tlsMode() != io.meshproxy.core.config.DownstreamTlsMode.DISABLE) {
                errors.add("listener '" + l.name() + "': tlsMode " + l.tlsMode()
                        + " needs a TransportSecurity (MeshProxy.Builder.transportSecurity, from proxy-tls)");
            }
        }
        for (ClusterConfig c : cfg.clusters()) {
            if (c.tls() != null) {
                errors.add("cluster '" + c.name() + "': tls " + c.tls().mode()
                        + " needs a TransportSecurity (MeshProxy.Builder.transportSecurity, from proxy-tls)");
            }
        }
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
    }

    /** Lifecycle, as Envoy's {@code /server_info} reports it. */
    public enum State { INITIALIZING, LIVE, DRAINING, TERMINATED }

    private MeshProxy(Builder b) {
        this.config = Objects.requireNonNull(b.config, "config");
        this.versionInfo = b.version;
        this.filters = List.copyOf(b.filters);
        this.handlers = Map.copyOf(b.handlers);
        this.logListeners = List.copyOf(b.logListeners);
        this.events = io.meshproxy.core.filter.RequestEventListener.of(b.eventListeners);
        this.adminEndpoints = Map.copyOf(b.adminEndpoints);
        this.security = b.security;
        requireSecurityWhereNeeded(b.config, b.security);
        // The group first: clusters schedule their outlier-detection sweeps and health checks on it.
        this.group = Transport.newGroup(b.eventLoopThreads, "meshproxy");
        try {
            this.clusters = buildClusters(config, Map.of());
            Map<String, HttpService> chains = compileChains(config, clusters);
            Map<String, ListenerRuntime> rs = new LinkedHashMap<>();
            for (ListenerConfig l : config.listeners()) {
                rs.put(l.name(), new ListenerRuntime(l, chains.get(l.name()), logListeners, events));
            }
            this.runtimes = Collections.unmodifiableMap(rs);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * Clusters of {@code next}: an unchanged cluster (equal config) is carried over with its hosts and pools.
     * New clusters are not started: their timers begin when the configuration goes into force.
     */
    private Map<String, Cluster> buildClusters(ProxyConfig next, Map<String, Cluster> previous) {
        Map<String, Cluster> cs = new LinkedHashMap<>();
        for (ClusterConfig c : next.clusters()) {
            Cluster old = previous.get(c.name());
            cs.put(c.name(), old != null && old.config().equals(c) ? old : new Cluster(c, group, security));
        }
        return Collections.unmodifiableMap(cs);
    }

    /** Each listener's filter chain over its terminal (router or handler); fails on an unknown handler. */
    private Map<String, HttpService> compileChains(ProxyConfig cfg, Map<String, Cluster> cs) {
        List<String> errors = new ArrayList<>();
        Map<String, HttpService> chains = new LinkedHashMap<>();
        for (ListenerConfig l : cfg.listeners()) {
            HttpService terminal;
            if (l.handler() != null) {
                terminal = handlers.get(l.handler());
                if (terminal == null) {
                    errors.add("listener '" + l.name() + "': handler: no in-process handler registered as '"
                            + l.handler() + "'");
                    continue;
                }
            } else {
                terminal = new Router(RouteTable.compile(l.routes()), cs);
            }
            chains.put(l.name(), DefaultFilterChain.build(filters, l.localRateLimit(), terminal));
        }
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        return chains;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds every listener and the admin server. */
    public MeshProxy start() {
        String binding = null;
        clusters.values().forEach(Cluster::start);
        try {
            for (ListenerRuntime r : runtimes.values()) {
                binding = "listener '" + r.name() + "' on " + r.config().address() + ":" + r.config().port();
                ListenerServer s = new ListenerServer(r, group, security);
                s.start();
                servers.put(r.name(), s);
            }
            if (config.admin() != null) {
                binding = "admin on " + config.admin().address() + ":" + config.admin().port();
                admin = new AdminServer(this, config.admin(), group, adminEndpoints);
                admin.start();
            }
        } catch (Exception e) { // Netty rethrows a bind failure as an undeclared IOException
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            close();
            throw new IllegalStateException("cannot start " + binding + ": " + e.getMessage(), e);
        }
        state = State.LIVE;
        return this;
    }

    public ProxyConfig config() {
        return config;
    }

    public State state() {
        return state;
    }

    public long startedAtMillis() {
        return startedAtMillis;
    }

    /** The clusters by name, in configuration order. */
    public Map<String, Cluster> clusters() {
        return clusters;
    }

    /** The version of the configuration in force, as given to {@link #update(ProxyConfig, String)} ("0" at start). */
    public String versionInfo() {
        return versionInfo;
    }

    /**
     * Swaps in a new configuration, atomically, without dropping a connection: the new configuration is
     * compiled completely first (a problem throws {@link ConfigException} and nothing changes); then every
     * listener's chain and route table switch at once. Requests in flight finish on the configuration they
     * started with. Clusters whose config is unchanged carry over with their hosts, counters and pooled
     * connections; replaced clusters close their connections as their requests end. New listeners are
     * bound, removed ones drain; a listener whose address or port changed is drained and bound anew. The
     * admin server keeps its address.
     *
     * @param version the version of the source (a file digest, a revision) shown by {@code /config_dump}
     */
    public synchronized void update(ProxyConfig next, String version) {
        Objects.requireNonNull(next, "config");
        requireSecurityWhereNeeded(next, security);
        if (state == State.TERMINATED) {
            throw new IllegalStateException("proxy is closed");
        }
        Map<String, Cluster> previous = clusters;
        Map<String, Cluster> nextClusters = buildClusters(next, previous);
        Map<String, HttpService> chains = compileChains(next, nextClusters);
        // Bind what is new before anything switches, so a port that cannot be bound rejects the update whole.
        Map<String, ListenerServer> bound = new LinkedHashMap<>();
        Map<String, ListenerRuntime> boundRuntimes = new LinkedHashMap<>();
        List<ListenerServer> toDrain = new ArrayList<>();
        try {
            for (ListenerConfig l : next.listeners()) {
                ListenerRuntime existing = runtimes.get(l.name());
                boolean rebind = existing == null || !existing.config().address().equals(l.address())
                        || existing.config().port() != l.port();
                if (!rebind) {
                    continue;
                }
                if (existing != null && servers.containsKey(l.name())) {
                    ListenerServer old = servers.get(l.name());
                    toDrain.add(old);
                    if (old.port() == l.port()) {
                        old.stopAccepting(); // same port, new address: free it first
                    }
                }
                ListenerRuntime r = new ListenerRuntime(l, chains.get(l.name()), logListeners, events);
                boundRuntimes.put(l.name(), r);
                if (state != State.INITIALIZING) {
                    ListenerServer server = new ListenerServer(r, group, security);
                    server.start();
                    bound.put(l.name(), server);
                }
            }
        } catch (Exception e) { // Netty rethrows a bind failure as an undeclared IOException
            bound.values().forEach(ListenerServer::close);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new ConfigException("update rejected, previous configuration kept: " + e.getMessage());
        }
        // The switch.
        Map<String, ListenerRuntime> nextRuntimes = new LinkedHashMap<>();
        for (ListenerConfig l : next.listeners()) {
            ListenerRuntime r = boundRuntimes.get(l.name());
            if (r == null) {
                r = runtimes.get(l.name());
                r.update(l, chains.get(l.name()));
            } else if (bound.containsKey(l.name())) {
                servers.put(l.name(), bound.get(l.name()));
            }
            nextRuntimes.put(l.name(), r);
        }
        for (String name : runtimes.keySet()) {
            if (!nextRuntimes.containsKey(name)) {
                ListenerServer s = servers.remove(name);
                if (s != null) {
                    toDrain.add(s);
                }
            }
        }
        this.runtimes = Collections.unmodifiableMap(nextRuntimes);
        this.clusters = nextClusters;
        this.config = next;
        this.versionInfo = version == null ? "" : version;
        toDrain.forEach(ListenerServer::drain);
        if (state != State.INITIALIZING) {
            nextClusters.values().forEach(Cluster::start); // carried-over clusters are started already
        }
        for (Cluster c : previous.values()) {
            if (nextClusters.get(c.name()) != c) {
                c.retire();
            }
        }
        LOG.info("configuration {} in force: {} listeners, {} clusters", versionInfo, nextRuntimes.size(),
                nextClusters.size());
    }

    /** The bound address of a listener. */
    public InetSocketAddress listenerAddress(String name) {
        ListenerServer s = servers.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no listener '" + name + "'");
        }
        return s.address();
    }

    public int listenerPort(String name) {
        return listenerAddress(name).getPort();
    }

    /** Open downstream connections per listener. */
    public Map<String, Integer> listenerConnections() {
        Map<String, Integer> m = new LinkedHashMap<>();
        servers.forEach((n, s) -> m.put(n, s.connectionCount()));
        return m;
    }

    public int adminPort() {
        if (admin == null) {
            throw new IllegalStateException("no admin server configured");
        }
        return admin.port();
    }

    /** The in-process client, entering the chain of the first listener that routes (not a handler listener). */
    public MeshClient client() {
        for (ListenerRuntime r : runtimes.values()) {
            if (r.config().routes() != null) {
                return client(r.name());
            }
        }
        throw new IllegalStateException("no routing listener to enter");
    }

    /** The in-process client entering listener {@code name}'s filter chain and routes. */
    public MeshClient client(String listenerName) {
        if (!runtimes.containsKey(listenerName)) {
            throw new IllegalArgumentException("no listener '" + listenerName + "'");
        }
        return new MeshClient(() -> runtimes.get(listenerName), group);
    }

    /**
     * Graceful drain of every listener: stop accepting, GOAWAY on HTTP/2, {@code Connection: close} on
     * HTTP/1.1, requests in flight run to completion up to each listener's drain timeout.
     */
    public CompletableFuture<Void> drain() {
        if (state == State.LIVE) {
            state = State.DRAINING;
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (ListenerServer s : servers.values()) {
            all.add(s.drain());
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /** Drains (up to the listeners' drain timeouts), then stops everything. */
    @Override
    public void close() {
        if (state == State.TERMINATED) {
            return;
        }
        try {
            Duration longest = Duration.ZERO;
            for (ListenerRuntime r : runtimes.values()) {
                if (r.config().drainTimeout().compareTo(longest) > 0) {
                    longest = r.config().drainTimeout();
                }
            }
            drain().get(longest.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            servers.values().forEach(ListenerServer::close);
        }
        state = State.TERMINATED;
        if (admin != null) {
            admin.close();
        }
        clusters.values().forEach(Cluster::close);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Builds a {@link MeshProxy}; the configuration is validated before anything binds. */
    public static final class Builder {
        private ProxyConfig config;
        private String version = "0";
        private final List<HttpFilter> filters = new ArrayList<>();
        private final Map<String, HttpService> handlers = new LinkedHashMap<>();
        private final List<RequestLogListener> logListeners = new ArrayList<>();
        private final List<io.meshproxy.core.filter.RequestEventListener> eventListeners = new ArrayList<>();
        private final Map<String, AdminEndpoint> adminEndpoints = new LinkedHashMap<>();
        private io.meshproxy.core.tls.TransportSecurity security;
        private int eventLoopThreads = Runtime.getRuntime().availableProcessors();

        public Builder config(ProxyConfig config) {
            this.config = config;
            return this;
        }

        /** The version of the initial configuration's source, shown by {@code /config_dump} ("0" by default). */
        public Builder version(String version) {
            this.version = Objects.requireNonNull(version, "version");
            return this;
        }

        /** An application filter, placed after the built-in ones (see {@link DefaultFilterChain}), in order. */
        public Builder filter(HttpFilter filter) {
            filters.add(Objects.requireNonNull(filter, "filter"));
            return this;
        }

        /** An in-process application handler, the destination of listeners whose {@code handler} names it. */
        public Builder handler(String name, HttpService handler) {
            handlers.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(handler, "handler"));
            return this;
        }

        /** Told of every finished request (access logs, metrics). */
        public Builder requestLogListener(RequestLogListener listener) {
            logListeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Told of each step of every request and of every downstream connection (metrics, tracing, access
         * logs); several are called in registration order. None by default, which costs nothing.
         */
        public Builder eventListener(io.meshproxy.core.filter.RequestEventListener listener) {
            eventListeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** An extra admin API endpoint at {@code path} (for example {@code /stats/prometheus}). */
        public Builder adminEndpoint(String path, AdminEndpoint endpoint) {
            if (path == null || !path.startsWith("/")) {
                throw new IllegalArgumentException("adminEndpoint: path must start with '/', was " + path);
            }
            adminEndpoints.put(path, Objects.requireNonNull(endpoint, "endpoint"));
            return this;
        }

        /**
         * Where TLS engines come from (proxy-tls); needed when a listener's {@code tlsMode} is PERMISSIVE or
         * STRICT or a cluster has {@code tls}.
         */
        public Builder transportSecurity(io.meshproxy.core.tls.TransportSecurity security) {
            this.security = Objects.requireNonNull(security, "security");
            return this;
        }

        /** Event loop threads; one per core by default. */
        public Builder eventLoopThreads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("eventLoopThreads: must be at least 1, was " + threads);
            }
            this.eventLoopThreads = threads;
            return this;
        }

        public MeshProxy build() {
            return new MeshProxy(this);
        }
    }
}
