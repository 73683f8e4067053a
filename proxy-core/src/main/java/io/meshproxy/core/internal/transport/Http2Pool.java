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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 (cleartext, prior knowledge) connections to one host from one event loop. Requests are
 * multiplexed as streams; a connection takes at most the peer's SETTINGS_MAX_CONCURRENT_STREAMS, learned
 * before any stream is opened on it. Requests beyond every connection's capacity wait in order and open
 * another connection. A connection that receives GOAWAY takes no new streams.
 */
public final class Http2Pool implements EndpointPool {
    static final int STREAM_WINDOW = 1 << 20;

    private final EventLoop loop;
    private final Host host;
    private final Bootstrap bootstrap;
    private final long idleTimeoutNanos;
    private final List<Connection> connections = new ArrayList<>(2);
    private final ArrayDeque<UpstreamExchange> pending = new ArrayDeque<>();
    private int connecting;
    private boolean closed;
    private boolean retired;

    public Http2Pool(EventLoop loop, Host host, ClusterConfig config, ClusterResources resources, ClusterStats stats) {
        this.loop = loop;
        this.host = host;
        this.idleTimeoutNanos = config.idleTimeout().toNanos();
        this.bootstrap = Transport.upstreamBootstrap(loop, config.connectTimeout());
    }

    @Override
    public void acquire(UpstreamExchange exchange) {
        assert loop.inEventLoop();
        if (closed) {
            exchange.onAcquireFailed(null, ResponseFlag.UF);
            return;
        }
        pending.add(exchange);
        dispatch();
    }

    private void dispatch() {
        while (!pending.isEmpty()) {
            UpstreamExchange ex = pending.peek();
            if (ex.isFinished()) {
                pending.poll();
                continue;
            }
            Connection c = available();
            if (c == null) {
                if (connecting == 0 && !closed) {
                    connect();
                }
                return;
            }
            pending.poll();
            c.open(ex);
        }
    }

    private Connection available() {
        for (int i = 0; i < connections.size(); i++) {
            Connection c = connections.get(i);
            if (c.ready && !c.goingAway && c.active < c.maxStreams && c.parent.isActive()) {
                return c;
            }
        }
        return null;
    }

    private void connect() {
        connecting++;
        ChannelFuture f = bootstrap.connect(host.address(), host.port());
        f.addListener(done -> {
            if (!done.isSuccess()) {
                connecting--;
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
        });
    }

    private void failPendingIfStuck(Throwable cause) {
        if (connecting > 0 || available() != null) {
            dispatch();
            return;
        }
        UpstreamExchange ex;
        while ((ex = pending.poll()) != null) {
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
        for (Connection c : new ArrayList<>(connections)) {
            c.parent.close();
        }
        UpstreamExchange ex;
        while ((ex = pending.poll()) != null) {
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
        private long maxStreams = Long.MAX_VALUE;
        private int active;
        private boolean ready;
        private boolean goingAway;
        private boolean gone;
        private ScheduledFuture<?> idleTimer;

        Connection(Channel parent) {
            this.parent = parent;
            this.streams = new Http2StreamChannelBootstrap(parent);
        }

        void open(UpstreamExchange ex) {
            active++;
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
            if (active == 0 && retired && pending.isEmpty()) {
                parent.close();
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
                        maxStreams = max;
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

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (gone) {
                return;
            }
            gone = true;
            if (!ready) {
                connecting--;
            }
            connections.remove(this);
            host.connectionClosed();
            if (idleTimer != null) {
                idleTimer.cancel(false);
            }
            failPendingIfStuck(new java.nio.channels.ClosedChannelException());
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

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
