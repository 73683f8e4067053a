package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.core.config.ClusterConfig;
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
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.1 keep-alive connections to one host from one event loop. A connection serves one exchange at a
 * time; afterwards it waits in the idle stack (most recently used first, so a few warm connections carry
 * the load and the rest time out) until reused or until {@code idleTimeout}.
 */
public final class Http1Pool implements EndpointPool {
    private final EventLoop loop;
    private final Host host;
    private final Bootstrap bootstrap;
    private final long idleTimeoutNanos;
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    private int open;
    private boolean closed;
    private boolean retired;

    public Http1Pool(EventLoop loop, Host host, ClusterConfig config, ClusterResources resources, ClusterStats stats) {
        this.loop = loop;
        this.host = host;
        this.idleTimeoutNanos = config.idleTimeout().toNanos();
        this.bootstrap = Transport.upstreamBootstrap(loop, config.connectTimeout());
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
        ChannelFuture f = bootstrap.connect(host.address(), host.port());
        f.addListener(done -> {
            if (!done.isSuccess()) {
                exchange.onAcquireFailed(done.cause(), ResponseFlag.UF);
                return;
            }
            Channel ch = f.channel();
            Connection conn = new Connection(ch);
            ch.pipeline().addLast(new HttpClientCodec(4096, 65536, 65536, false, false), conn);
            open++;
            host.connectionOpened();
            conn.attach(exchange);
        });
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
        Connection c;
        while ((c = idle.pollFirst()) != null) {
            c.channel.close();
        }
    }

    private final class Connection extends ChannelInboundHandlerAdapter implements UpstreamStream {
        private final Channel channel;
        private UpstreamExchange exchange;
        private ScheduledFuture<?> idleTimer;
        private boolean gone;
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
            if (!reusable || closed || retired || !channel.isActive()) {
                channel.close();
                return;
            }
            channel.config().setAutoRead(true); // notice the server closing an idle connection
            idle.addFirst(this);
            if (idleTimeoutNanos > 0) {
                idleTimer = loop.schedule(() -> {
                    if (exchange == null && idle.remove(this)) {
                        channel.close();
                    }
                }, idleTimeoutNanos, TimeUnit.NANOSECONDS);
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
            if (!gone) {
                gone = true;
                open--;
                host.connectionClosed();
                idle.remove(this);
                if (idleTimer != null) {
                    idleTimer.cancel(false);
                }
            }
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
