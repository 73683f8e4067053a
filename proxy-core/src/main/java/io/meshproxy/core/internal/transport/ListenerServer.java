package io.meshproxy.core.internal.transport;

import io.meshproxy.core.config.ListenerConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A bound listener: HTTP/1.1, HTTP/2 with prior knowledge, and the HTTP/1.1 {@code Upgrade: h2c} on one
 * port. Each accepted connection stays on the event loop that accepted it, with every upstream connection
 * its requests use. Knows its open connections so it can drain them.
 */
public final class ListenerServer {
    /** Largest upgrade request (with its body) buffered while switching to HTTP/2. */
    private static final int MAX_UPGRADE_REQUEST = 2 << 20;

    private final ListenerRuntime runtime;
    private final EventLoopGroup group;
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private Channel serverChannel;

    private final io.meshproxy.core.tls.TransportSecurity security;

    public ListenerServer(ListenerRuntime runtime, EventLoopGroup group) {
        this(runtime, group, null);
    }

    /** @param security the TLS engines of a PERMISSIVE or STRICT listener; null when none is registered */
    public ListenerServer(ListenerRuntime runtime, EventLoopGroup group,
            io.meshproxy.core.tls.TransportSecurity security) {
        this.security = security;
        this.runtime = runtime;
        this.group = group;
    }

    public ListenerRuntime runtime() {
        return runtime;
    }

    /** Binds; throws if the port cannot be bound. */
    public void start() throws InterruptedException {
        ListenerConfig cfg = runtime.config();
        ServerBootstrap b = new ServerBootstrap().group(group).channel(Transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        io.meshproxy.core.filter.RequestEventListener events = runtime.events();
                        if (events != io.meshproxy.core.filter.RequestEventListener.NONE) {
                            ch.pipeline().addLast(new ConnectionEvents(runtime.name(), events));
                        }
                        io.meshproxy.core.config.DownstreamTlsMode mode = runtime.config().tlsMode();
                        if (mode == io.meshproxy.core.config.DownstreamTlsMode.STRICT && security != null) {
                            initTls(ch.pipeline());
                        } else if (mode == io.meshproxy.core.config.DownstreamTlsMode.PERMISSIVE && security != null) {
                            ch.pipeline().addLast(new TlsDetector());
                        } else {
                            initConnection(ch.pipeline());
                        }
                    }
                });
        serverChannel = b.bind(new InetSocketAddress(cfg.address(), cfg.port())).sync().channel();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public int port() {
        return address().getPort();
    }

    /** Open downstream connections. */
    public int connectionCount() {
        return connections.size();
    }

    private void addTimeouts(ChannelPipeline p) {
        ListenerConfig cfg = runtime.config();
        if (!cfg.idleTimeout().isZero()) {
            p.addLast(new IdleStateHandler(0, 0, cfg.idleTimeout().toNanos(), TimeUnit.NANOSECONDS));
        }
        if (!cfg.requestHeadersTimeout().isZero()) {
            p.addLast(new RequestHeadersTimeoutHandler(cfg.requestHeadersTimeout().toNanos()));
        }
    }

    private void initConnection(ChannelPipeline p) {
        ListenerConfig cfg = runtime.config();
        addTimeouts(p);
        HttpServerCodec codec = new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(16384)
                .setMaxHeaderSize(cfg.maxRequestHeadersBytes())
                .setMaxChunkSize(65536));
        HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(codec, protocol ->
                AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                        ? new Http2ServerUpgradeCodec(http2Codec(), new Http2MultiplexHandler(streamInitializer()),
                                new Http2ConnectionWindow(), new Http2IdleCloser())
                        : null,
                MAX_UPGRADE_REQUEST);
        ChannelHandler priorKnowledge = new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(http2Codec(), new Http2MultiplexHandler(streamInitializer()),
                        new Http2ConnectionWindow(), new Http2IdleCloser());
            }
        };
        p.addLast(new CleartextHttp2ServerUpgradeHandler(codec, upgrade, priorKnowledge));
        p.addLast(new DownstreamHandler(runtime, false));
    }

    /**
     * A TLS connection: the handshake first (bounded by the request-headers timeout, 10 s when that is off),
     * then HTTP/2 when ALPN chose {@code h2}, HTTP/1.1 otherwise; the peer's principal is kept on the
     * connection for every request's context. A failed handshake closes the connection.
     */
    private void initTls(ChannelPipeline p) {
        long started = System.nanoTime();
        io.netty.handler.ssl.SslHandler tls = new io.netty.handler.ssl.SslHandler(
                security.newServerEngine(runtime.config()));
        java.time.Duration limit = runtime.config().requestHeadersTimeout();
        tls.setHandshakeTimeout(limit.isZero() ? 10_000 : limit.toMillis(), TimeUnit.MILLISECONDS);
        p.addLast("tls", tls);
        p.addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) throws Exception {
                if (!(evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent done)) {
                    ctx.fireUserEventTriggered(evt);
                    return;
                }
                if (!done.isSuccess()) {
                    runtime.events().onTlsHandshakeFailed(runtime.name(), System.nanoTime() - started);
                    ctx.close();
                    return;
                }
                javax.net.ssl.SSLSession session = tls.engine().getSession();
                String principal = security.peerPrincipal(session);
                ctx.channel().attr(Tls.SECURE).set(Boolean.TRUE);
                if (principal != null) {
                    ctx.channel().attr(Tls.PEER_PRINCIPAL).set(principal);
                }
                long took = System.nanoTime() - started;
                boolean resumed = security.isResumed(tls.engine());
                security.handshakeCompleted(true, resumed, took);
                runtime.events().onTlsHandshake(runtime.name(), resumed, took, principal);
                ChannelPipeline pipeline = ctx.pipeline();
                pipeline.remove(this);
                if ("h2".equals(tls.engine().getApplicationProtocol())) {
                    addTimeouts(pipeline);
                    pipeline.addLast(http2Codec(), new Http2MultiplexHandler(streamInitializer()),
                            new Http2ConnectionWindow(), new Http2IdleCloser());
                } else {
                    initConnection(pipeline);
                }
            }

            /**
             * Until the handshake is done, what the TLS handler raises (plaintext on a STRICT port, a refused
             * certificate) is the peer's fault: the connection closes (the failed handshake event says so too),
             * without a stack trace in the log for every such client.
             */
            @Override
            public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                org.slf4j.LoggerFactory.getLogger(ListenerServer.class).debug("listener {}: TLS connection from {}"
                        + " closed: {}", runtime.name(), ctx.channel().remoteAddress(), cause.toString());
                ctx.close();
            }
        });
    }

    /** PERMISSIVE: a connection whose first bytes are a TLS record goes the TLS way, any other the plaintext way. */
    private final class TlsDetector extends io.netty.handler.codec.ByteToMessageDecoder {
        @Override
        protected void decode(io.netty.channel.ChannelHandlerContext ctx, io.netty.buffer.ByteBuf in,
                java.util.List<Object> out) {
            if (in.readableBytes() < 5) {
                return; // a TLS record header is 5 bytes
            }
            if (io.netty.handler.ssl.SslHandler.isEncrypted(in, false)) {
                initTls(ctx.pipeline());
            } else {
                initConnection(ctx.pipeline());
            }
            ctx.pipeline().remove(this); // hands what was read to the handlers just added
        }
    }

    private Http2FrameCodec http2Codec() {
        ListenerConfig cfg = runtime.config();
        return Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(cfg.http2MaxConcurrentStreams())
                        .maxHeaderListSize(cfg.maxRequestHeadersBytes())
                        .initialWindowSize(Http2Pool.STREAM_WINDOW))
                .gracefulShutdownTimeoutMillis(cfg.drainTimeout().toMillis())
                .validateHeaders(true)
                .build();
    }

    private ChannelInitializer<Http2StreamChannel> streamInitializer() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true), new DownstreamHandler(runtime, true));
            }
        };
    }

    /**
     * Graceful drain: stop accepting, then let requests in flight finish — HTTP/2 connections get GOAWAY and
     * close once their streams end; HTTP/1.1 connections close when idle, after their current response
     * (sent with {@code Connection: close}) otherwise. Whatever is still open at the drain timeout is closed.
     */
    public CompletableFuture<Void> drain() {
        runtime.draining(true);
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (serverChannel != null) {
            serverChannel.close(); // not awaited: drain may be called on an event loop (the admin API)
        }
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> {
                if (ch.pipeline().get(Http2FrameCodec.class) != null) {
                    ch.close(); // Http2ConnectionHandler: GOAWAY, then close when the last stream ends
                } else {
                    DownstreamHandler h = ch.pipeline().get(DownstreamHandler.class);
                    if (h != null) {
                        h.drain();
                    } else {
                        ch.close();
                    }
                }
            });
        }
        long deadline = System.nanoTime() + runtime.config().drainTimeout().toNanos();
        awaitDrained(done, deadline);
        return done;
    }

    private void awaitDrained(CompletableFuture<Void> done, long deadline) {
        if (connections.isEmpty()) {
            done.complete(null);
            return;
        }
        if (System.nanoTime() - deadline >= 0) {
            connections.close().addListener(f -> done.complete(null));
            return;
        }
        GlobalEventExecutor.INSTANCE.schedule(() -> awaitDrained(done, deadline), 20, TimeUnit.MILLISECONDS);
    }

    /** Closes the listening socket (new connections are refused); open connections carry on. */
    public void stopAccepting() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }

    /** Stops accepting and closes every connection at once. */
    public void close() {
        runtime.draining(true);
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        connections.close().syncUninterruptibly();
    }
}
