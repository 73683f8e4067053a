package io.meshproxy.core.internal.transport;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.core.upstream.ClusterResources;
import io.meshproxy.core.upstream.ClusterStats;
import io.meshproxy.core.upstream.Host;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.1 keep-alive connections to one host from one event loop. A connection serves one exchange at a
 * time; afterwards it goes to the oldest pending request, or waits in the idle stack (most recently used
 * first, so a few warm connections carry the load and the rest time out) until reused or until
 * {@code idleTimeout}.
 *
 * <p>Envoy's thresholds, counted cluster-wide in {@link ClusterResources}: a connection is opened only
 * within {@code maxConnections} (refusals count {@code upstream_cx_overflow}); a request that finds no idle
 * connection is pending (also while the connection opened for it is being established) and holds one unit
 * of {@code maxPendingRequests} until it gets a connection, fails or ends, or fails at once with 503 UO
 * ({@code upstream_rq_pending_overflow}) when none is left. Pending requests are served in arrival order.
 * A connection that served {@code maxRequestsPerConnection} requests is closed instead of reused.
 */
public final class Http1Pool implements EndpointPool {
    private final ClusterConfig clusterConfig;
    private final io.meshproxy.core.tls.TransportSecurity security;
    private final EventLoop loop;
    private final Host host;
    private final ClusterResources resources;
    private final ClusterStats stats;
    private final Bootstrap bootstrap;
    private final long idleTimeoutNanos;
    private final int maxRequestsPerConnection;
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    /** Pending requests, oldest first; each holds one pending unit of {@link #resources} while here. */
    private final PendingRequests waiters;
    private final Runnable wake = () -> onLoop(this::onConnectionReleased);
    private final Runnable reclaimer = () -> onLoop(this::reclaimIdle);
    private int open;
    private int connecting;
    /** A wake-up is registered with, or on its way from, {@link ClusterResources#awaitConnection}. */
    private boolean awaitingConnection;
    private boolean closed;
    private boolean retired;

    public Http1Pool(EventLoop loop, Host host, ClusterConfig config, ClusterResources resources, ClusterStats stats) {
        this(loop, host, config, resources, stats, null);
    }

    /** @param security where TLS engines come from when the cluster uses TLS; null when none is registered */
    public Http1Pool(EventLoop loop, Host host, ClusterConfig config, ClusterResources resources, ClusterStats stats,
            io.meshproxy.core.tls.TransportSecurity security) {
        this.clusterConfig = config;
        this.security = security;
        this.loop = loop;
        this.host = host;
        this.resources = resources;
        this.stats = stats;
        this.waiters = new PendingRequests(loop, resources, stats);
        this.idleTimeoutNanos = config.idleTimeout().toNanos();
        this.maxRequestsPerConnection = config.connectionPool().maxRequestsPerConnection();
        this.bootstrap = Transport.upstreamBootstrap(loop, config.connectTimeout(),
                config.connectionPool().tcpKeepalive());
        resources.addIdleReclaimer(reclaimer);
    }

    @Override
    public void acquire(UpstreamExchange exchange) {
        assert loop.inEventLoop();
        Connection c;
        while ((c = idle.pollFirst()) != null) {
            if (c.channel.isActive()) {
                c.attach(exchange);
                return;
            }
        }
        if (closed) {
            exchange.onAcquireFailed(null, ResponseFlag.UF);
            return;
        }
        if (!waiters.offer(exchange)) {
            return;
        }
        connectForWaiters();
    }

    /** Opens connections for pending requests no connection in progress will serve, within maxConnections. */
    private void connectForWaiters() {
        while (!closed && waiters.size() > connecting) {
            if (!resources.tryAcquireConnection()) {
                stats.upstreamCxOverflow.increment();
                if (awaitingConnection) {
                    return;
                }
                awaitingConnection = true;
                resources.awaitConnection(wake);
                if (!resources.tryAcquireConnection()) {
                    return; // woken by the next connection to close anywhere in the cluster
                }
            }
            connect();
        }
    }

    private void onConnectionReleased() {
        awaitingConnection = false;
        connectForWaiters();
    }

    /** Another pool waits for a connection: give up an idle one (least recently used). */
    private void reclaimIdle() {
        if (resources.connectionAwaited()) {
            Connection c = idle.pollLast();
            if (c != null) {
                c.channel.close();
            }
        }
    }

    private void onLoop(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // the event loop is shutting down: its pools are gone with it
        }
    }

    /** Called with one connection unit of {@link #resources} taken. */
    private void connect() {
        connecting++;
        stats.upstreamCxTotal.increment();
        ChannelFuture f = TlsConnect.connect(bootstrap, host.address(), host.port(), clusterConfig, security, stats);
        f.addListener(done -> connected(f));
    }

    private void connected(ChannelFuture f) {
        connecting--;
        if (!f.isSuccess()) {
            stats.upstreamCxConnectFail.increment();
            resources.releaseConnection();
            // This connection stood for one pending request: the oldest fails; the others keep their chances.
            UpstreamExchange ex = waiters.poll();
            if (ex != null) {
                ex.onAcquireFailed(f.cause(), ResponseFlag.UF);
            }
            return;
        }
        Channel ch = f.channel();
        Connection conn = new Connection(ch);
        ch.pipeline().addLast(new HttpClientCodec(4096, 65536, 65536, false, false), conn);
        open++;
        host.connectionOpened();
        ch.closeFuture().addListener(done -> conn.gone());
        if (closed) {
            ch.close();
            return;
        }
        offer(conn);
    }

    /** {@code c} is free: it serves the oldest pending request, or waits idle, or closes. */
    private void offer(Connection c) {
        c.channel.config().setAutoRead(true); // a paused response may have left it off
        UpstreamExchange ex = waiters.poll();
        if (ex != null) {
            c.attach(ex);
            return;
        }
        if (closed || retired || resources.connectionAwaited()) {
            c.channel.close();
            return;
        }
        idle.addFirst(c); // autoRead on: notice the server closing an idle connection
        if (idleTimeoutNanos > 0) {
            c.idleTimer = loop.schedule(() -> {
                if (c.exchange == null && idle.remove(c)) {
                    c.channel.close();
                }
            }, idleTimeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public int connections() {
        return open;
    }

    @Override
    public void retire() {
        retired = true;
        Connection c;
        while ((c = idle.pollFirst()) != null) {
            c.channel.close();
        }
    }

    @Override
    public void close() {
        closed = true;
        resources.removeIdleReclaimer(reclaimer);
        Connection c;
        while ((c = idle.pollFirst()) != null) {
            c.channel.close();
        }
        UpstreamExchange ex;
        while ((ex = waiters.poll()) != null) {
            ex.onAcquireFailed(null, ResponseFlag.UF);
        }
    }

    private final class Connection extends ChannelInboundHandlerAdapter implements UpstreamStream {
        private final Channel channel;
        private UpstreamExchange exchange;
        private ScheduledFuture<?> idleTimer;
        private int exchanges;

        Connection(Channel channel) {
            this.channel = channel;
        }

        void attach(UpstreamExchange ex) {
            if (idleTimer != null) {
                idleTimer.cancel(false);
                idleTimer = null;
            }
            exchange = ex;
            exchanges++;
            ex.onStream(this);
        }

        /** The channel closed (once): its connection unit goes back, and pending requests may connect. */
        void gone() {
            open--;
            host.connectionClosed();
            idle.remove(this);
            if (idleTimer != null) {
                idleTimer.cancel(false);
            }
            resources.releaseConnection();
            connectForWaiters();
        }

        @Override
        public Channel channel() {
            return channel;
        }

        @Override
        public boolean http2() {
            return false;
        }

        @Override
        public boolean reused() {
            return exchanges > 1;
        }

        @Override
        public void release(boolean reusable) {
            exchange = null;
            if (!reusable || !channel.isActive()
                    || (maxRequestsPerConnection > 0 && exchanges >= maxRequestsPerConnection)) {
                channel.close();
                return;
            }
            offer(this);
        }

        @Override
        public void reset() {
            exchange = null;
            channel.close();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            UpstreamExchange ex = exchange;
            if (ex == null) {
                ReferenceCountUtil.release(msg); // bytes on an idle connection: the server misbehaves
                channel.close();
                return;
            }
            ex.onRead((HttpObject) msg);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            UpstreamExchange ex = exchange;
            if (ex != null) {
                ex.onWritabilityChanged();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            UpstreamExchange ex = exchange;
            exchange = null;
            if (ex != null) {
                ex.onClosed();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
