package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.upstream.ClusterResources;
import io.meshproxy.core.upstream.ClusterStats;
import io.meshproxy.core.upstream.Host;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 (cleartext, prior knowledge) connections to one host from one event loop. Requests are
 * multiplexed as streams; a connection takes at most min(the peer's SETTINGS_MAX_CONCURRENT_STREAMS,
 * {@code maxConcurrentStreams}) streams, learned before any stream is opened on it, and at most
 * {@code maxRequestsPerConnection} streams over its life, after which it closes when its last stream ends.
 * Requests beyond every connection's capacity wait in order and open another connection. A connection that
 * receives GOAWAY takes no new streams.
 *
 * <p>Envoy's thresholds, counted cluster-wide in {@link ClusterResources}: a connection is opened only
 * within {@code maxConnections} (refusals count {@code upstream_cx_overflow}); a request that finds no stream
 * capacity (also while a connection is being established) is pending and holds one unit of
 * {@code maxPendingRequests} until it gets a stream, fails or ends, or fails at once with 503 UO
 * ({@code upstream_rq_pending_overflow}) when none is left.
 */
public final class Http2Pool implements EndpointPool {
    private final ClusterConfig clusterConfig;
    private final io.meshproxy.core.tls.TransportSecurity security;
    static final int STREAM_WINDOW = 1 << 20;

    private final EventLoop loop;
    private final Host host;
    private final ClusterResources resources;
    private final ClusterStats stats;
    private final Bootstrap bootstrap;
    private final long idleTimeoutNanos;
    private final int maxRequestsPerConnection;
    private final long streamLimit;
    private final List<Connection> connections = new ArrayList<>(2);
    /** Pending requests, oldest first; each holds one pending unit of {@link #resources} while here. */
    private final PendingRequests waiters;
    private final Runnable wake = () -> onLoop(this::onConnectionReleased);
    private final Runnable reclaimer = () -> onLoop(this::reclaimIdle);
    private int connecting;
    /** A wake-up is registered with, or on its way from, {@link ClusterResources#awaitConnection}. */
    private boolean awaitingConnection;
    private boolean closed;
    private boolean retired;

    public Http2Pool(EventLoop loop, Host host, ClusterConfig config, ClusterResources resources, ClusterStats stats) {
        this(loop, host, config, resources, stats, null);
    }

    /** @param security where TLS engines come from when the cluster uses TLS; null when none is registered */
    public Http2Pool(EventLoop loop, Host host, ClusterConfig config, ClusterResources resources, ClusterStats stats,
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
        int streams = config.connectionPool().maxConcurrentStreams();
        this.streamLimit = streams > 0 ? streams : Long.MAX_VALUE;
        this.bootstrap = Transport.upstreamBootstrap(loop, config.connectTimeout(),
                config.connectionPool().tcpKeepalive());
        resources.addIdleReclaimer(reclaimer);
    }

    @Override
    public void acquire(UpstreamExchange exchange) {
        assert loop.inEventLoop();
        if (closed) {
            exchange.onAcquireFailed(null, ResponseFlag.UF);
            return;
        }
        if (waiters.isEmpty()) {
            Connection c = available();
            if (c != null) {
                c.open(exchange);
                return;
            }
        }
        if (!waiters.offer(exchange)) {
            return;
        }
        dispatch();
    }

    /** Gives pending requests the free stream capacity, oldest first, and connects for the rest. */
    private void dispatch() {
        while (!waiters.isEmpty()) {
            Connection c = available();
            if (c == null) {
                break;
            }
            UpstreamExchange ex = waiters.poll();
            if (ex != null) {
                c.open(ex);
            }
        }
        connectForWaiters();
    }

    private Connection available() {
        for (int i = 0; i < connections.size(); i++) {
            Connection c = connections.get(i);
            if (c.ready && !c.goingAway && c.active < c.maxStreams && !c.exhausted() && c.parent.isActive()) {
                return c;
            }
        }
        return null;
    }

    /** One connection at a time is established for the pending requests, within maxConnections. */
    private void connectForWaiters() {
        if (closed || waiters.isEmpty() || connecting > 0 || available() != null) {
            return;
        }
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

    private void onConnectionReleased() {
        awaitingConnection = false;
        dispatch();
    }

    /** Another pool waits for a connection: give up one without streams. */
    private void reclaimIdle() {
        if (!resources.connectionAwaited()) {
            return;
        }
        for (int i = 0; i < connections.size(); i++) {
            Connection c = connections.get(i);
            if (c.ready && c.active == 0) {
                c.parent.close();
                return;
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
        f.addListener(done -> {
            if (!done.isSuccess()) {
                connecting--;
                stats.upstreamCxConnectFail.increment();
                resources.releaseConnection();
                failPendingIfStuck(done.cause());
                return;
            }
            Channel ch = f.channel();
            Connection conn = new Connection(ch);
            ch.pipeline().addLast(
                    Http2FrameCodecBuilder.forClient()
                            .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)
                                    .initialWindowSize(STREAM_WINDOW))
                            .build(),
                    new Http2MultiplexHandler(RefusePushedStreams.INSTANCE),
                    new Http2ConnectionWindow(),
                    conn);
            connections.add(conn);
            host.connectionOpened();
            ch.closeFuture().addListener(x -> conn.gone());
            if (closed) {
                ch.close();
            }
        });
    }

    /** No connection can serve the pending requests and none is on its way: they fail (Envoy purges them). */
    private void failPendingIfStuck(Throwable cause) {
        if (connecting > 0 || available() != null) {
            dispatch();
            return;
        }
        UpstreamExchange ex;
        while ((ex = waiters.poll()) != null) {
            ex.onAcquireFailed(cause, ResponseFlag.UF);
        }
    }

    @Override
    public int connections() {
        return connections.size();
    }

    @Override
    public void retire() {
        retired = true;
        for (Connection c : new ArrayList<>(connections)) {
            if (c.active == 0) {
                c.parent.close();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        resources.removeIdleReclaimer(reclaimer);
        for (Connection c : new ArrayList<>(connections)) {
            c.parent.close();
        }
        UpstreamExchange ex;
        while ((ex = waiters.poll()) != null) {
            ex.onAcquireFailed(null, ResponseFlag.UF);
        }
    }

    /** Server push is disabled in our SETTINGS; a pushed stream is closed at once. */
    @ChannelHandler.Sharable
    private static final class RefusePushedStreams extends ChannelInboundHandlerAdapter {
        static final RefusePushedStreams INSTANCE = new RefusePushedStreams();

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.channel().close();
        }
    }

    private final class Connection extends ChannelInboundHandlerAdapter {
        private final Channel parent;
        private final Http2StreamChannelBootstrap streams;
        private long maxStreams = streamLimit;
        private int active;
        /** Streams opened over the connection's life, for maxRequestsPerConnection. */
        private int opened;
        private boolean ready;
        private boolean goingAway;
        private ScheduledFuture<?> idleTimer;

        Connection(Channel parent) {
            this.parent = parent;
            this.streams = new Http2StreamChannelBootstrap(parent);
        }

        boolean exhausted() {
            return maxRequestsPerConnection > 0 && opened >= maxRequestsPerConnection;
        }

        void open(UpstreamExchange ex) {
            active++;
            opened++;
            if (idleTimer != null) {
                idleTimer.cancel(false);
                idleTimer = null;
            }
            Stream s = new Stream(this, ex);
            streams.handler(new ChannelInitializer<Http2StreamChannel>() {
                @Override
                protected void initChannel(Http2StreamChannel ch) {
                    ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), s);
                }
            }).open().addListener(f -> {
                if (f.isSuccess()) {
                    s.channel = (Http2StreamChannel) f.getNow();
                    ex.onStream(s);
                } else {
                    streamClosed();
                    ex.onAcquireFailed(f.cause(), ResponseFlag.UC);
                }
            });
        }

        void streamClosed() {
            active--;
            if (active == 0 && (exhausted() || (waiters.isEmpty() && (retired || resources.connectionAwaited())))) {
                parent.close(); // its last stream ended; gone() lets pending requests connect
                return;
            }
            if (active == 0 && idleTimeoutNanos > 0 && parent.isActive()) {
                idleTimer = loop.schedule(() -> {
                    if (active == 0) {
                        parent.close();
                    }
                }, idleTimeoutNanos, TimeUnit.NANOSECONDS);
            }
            dispatch();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2SettingsFrame settings) {
                    Long max = settings.settings().maxConcurrentStreams();
                    if (max != null) {
                        maxStreams = Math.min(max, streamLimit);
                    }
                    if (!ready) {
                        ready = true;
                        connecting--;
                    }
                    dispatch();
                } else if (msg instanceof Http2GoAwayFrame) {
                    goingAway = true;
                    dispatch();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        /** The connection closed (once): its connection unit goes back; pending requests reconnect or fail. */
        void gone() {
            connections.remove(this);
            host.connectionClosed();
            if (idleTimer != null) {
                idleTimer.cancel(false);
            }
            resources.releaseConnection();
            if (!ready) {
                // closed before the peer's SETTINGS: as a failed connect, those waiting for it fail
                connecting--;
                failPendingIfStuck(new java.nio.channels.ClosedChannelException());
            } else {
                dispatch();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static final class Stream extends ChannelInboundHandlerAdapter implements UpstreamStream {
        private final Connection connection;
        private UpstreamExchange exchange;
        private Http2StreamChannel channel;
        private boolean closed;

        Stream(Connection connection, UpstreamExchange exchange) {
            this.connection = connection;
            this.exchange = exchange;
        }

        @Override
        public Channel channel() {
            return channel;
        }

        @Override
        public boolean http2() {
            return true;
        }

        @Override
        public boolean reused() {
            return false;
        }

        @Override
        public void release(boolean reusable) {
            exchange = null;
            if (channel.isActive()) {
                channel.close(); // RST_STREAM if the stream is still open, nothing otherwise
            }
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
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof HttpObject o) {
                ex.onRead(o);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            UpstreamExchange ex = exchange;
            if (ex != null) {
                ex.onWritabilityChanged();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!closed) {
                closed = true;
                UpstreamExchange ex = exchange;
                exchange = null;
                if (ex != null) {
                    ex.onClosed();
                }
                connection.streamClosed();
            }
        }

        /** A RST_STREAM from the upstream arrives as a user event; REFUSED_STREAM means it never processed it. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.handler.codec.http2.Http2ResetFrame rst
                    && rst.errorCode() == io.netty.handler.codec.http2.Http2Error.REFUSED_STREAM.code()) {
                UpstreamExchange ex = exchange;
                if (ex != null) {
                    ex.onStreamRefused();
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
