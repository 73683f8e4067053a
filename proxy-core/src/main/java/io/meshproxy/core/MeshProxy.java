package io.meshproxy.core;

import io.meshproxy.core.admin.AdminServer;
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
    private final ProxyConfig config;
    private final EventLoopGroup group;
    private final Map<String, Cluster> clusters;
    private final Map<String, ListenerServer> servers = new LinkedHashMap<>();
    private final Map<String, ListenerRuntime> runtimes = new LinkedHashMap<>();
    private final long startedAtMillis = System.currentTimeMillis();
    private AdminServer admin;
    private volatile State state = State.INITIALIZING;

    /** Lifecycle, as Envoy's {@code /server_info} reports it. */
    public enum State { INITIALIZING, LIVE, DRAINING, TERMINATED }

    private MeshProxy(Builder b) {
        this.config = Objects.requireNonNull(b.config, "config");
        this.group = Transport.newGroup(b.eventLoopThreads, "meshproxy");
        Map<String, Cluster> cs = new LinkedHashMap<>();
        for (ClusterConfig c : config.clusters()) {
            cs.put(c.name(), new Cluster(c));
        }
        this.clusters = Collections.unmodifiableMap(cs);
        List<String> errors = new ArrayList<>();
        for (ListenerConfig l : config.listeners()) {
            HttpService terminal;
            if (l.handler() != null) {
                terminal = b.handlers.get(l.handler());
                if (terminal == null) {
                    errors.add("listener '" + l.name() + "': handler: no in-process handler registered as '"
                            + l.handler() + "'");
                    continue;
                }
            } else {
                terminal = new Router(RouteTable.compile(l.routes()), clusters);
            }
            runtimes.put(l.name(), new ListenerRuntime(l, DefaultFilterChain.build(b.filters, terminal), b.logListeners));
        }
        if (!errors.isEmpty()) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new ConfigException(errors);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds every listener and the admin server. */
    public MeshProxy start() {
        try {
            for (ListenerRuntime r : runtimes.values()) {
                ListenerServer s = new ListenerServer(r, group);
                s.start();
                servers.put(r.name(), s);
            }
            if (config.admin() != null) {
                admin = new AdminServer(this, config.admin(), group);
                admin.start();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while binding", e);
        } catch (RuntimeException e) {
            close();
            throw e;
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
                return new MeshClient(r, group);
            }
        }
        throw new IllegalStateException("no routing listener to enter");
    }

    /** The in-process client entering listener {@code name}'s filter chain and routes. */
    public MeshClient client(String listenerName) {
        ListenerRuntime r = runtimes.get(listenerName);
        if (r == null) {
            throw new IllegalArgumentException("no listener '" + listenerName + "'");
        }
        return new MeshClient(r, group);
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
        private final List<HttpFilter> filters = new ArrayList<>();
        private final Map<String, HttpService> handlers = new LinkedHashMap<>();
        private final List<RequestLogListener> logListeners = new ArrayList<>();
        private int eventLoopThreads = Runtime.getRuntime().availableProcessors();

        public Builder config(ProxyConfig config) {
            this.config = config;
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
