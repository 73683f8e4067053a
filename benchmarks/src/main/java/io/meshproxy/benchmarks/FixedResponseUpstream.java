package io.meshproxy.benchmarks;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The upstream of the latency benchmarks: a small HTTP/1.1 server on loopback, one event loop, keep-alive,
 * answering every request (after reading its whole body) with 200 and the same fixed body. It does as
 * little as a server can, so what the benchmarks measure is the client and the proxy, not the upstream.
 * An upstream given a name says it in an {@value #IDENTITY_HEADER} response header, so a client can tell which
 * of several upstreams served it.
 *
 * <p>For the fast-fail benchmarks it can also answer with another status (a 500 to open a failure-rate
 * breaker), leave the requests of one path unanswered for as long as the connection lives (to hold a request
 * in flight), and count the requests it received (to show that a fast-failed request never reached it).
 *
 * <p>It speaks HTTP/1.1 and cleartext HTTP/2 with prior knowledge on the same port (the load harness's
 * {@code --protocol h2} goes direct to it as well). For the harness's own tests it can be made slow: every
 * response delayed by a fixed time, or one response (the n-th request) stalled once — a timer on its event
 * loop, never a blocked thread.
 */
public final class FixedResponseUpstream implements AutoCloseable {
    private static final int MAX_REQUEST_BYTES = 16 * 1024 * 1024;
    private static final String AGGREGATOR = "aggregator";
    private static final String RESPONDER = "responder";
    /** The response header naming the upstream, when it has a name. */
    public static final String IDENTITY_HEADER = "x-upstream";

    private final String name;
    private final HttpResponseStatus status;
    /** Requests to this path are read and never answered; null: every request is answered. */
    private final String holdPath;
    private final LongAdder received = new LongAdder();
    private final LongAdder held = new LongAdder();
    private final long delayNanos;
    /** The 1-based number of the request whose response is stalled once; 0: none. Counted on the one loop. */
    private final long stallRequest;
    private final long stallNanos;
    private long answered;

    private final EventLoopGroup group;
    private final Channel serverChannel;
    /** Never released while serving: every response sends a duplicate of it. */
    private final ByteBuf body;
    /** The buffer under {@link #body}, released once at {@link #close()}. */
    private final ByteBuf bodyStorage;

    /** Starts the server on 127.0.0.1 on an ephemeral port; every response carries {@code responseBytes} bytes. */
    public FixedResponseUpstream(int responseBytes) throws InterruptedException {
        this(responseBytes, null);
    }

    /** As {@link #FixedResponseUpstream(int)}, and every response carries {@code x-upstream: name} (null: none). */
    public FixedResponseUpstream(int responseBytes, String name) throws InterruptedException {
        this(responseBytes, name, 200, null);
    }

    /**
     * As {@link #FixedResponseUpstream(int, String)}, answering with {@code status} instead of 200, and never
     * answering a request whose path is {@code holdPath} (null: none): such a request stays in flight until
     * its connection closes.
     */
    FixedResponseUpstream(int responseBytes, String name, int status, String holdPath) throws InterruptedException {
        this(responseBytes, name, status, holdPath, Duration.ZERO, 0, Duration.ZERO);
    }

    /**
     * As {@link #FixedResponseUpstream(int, String)}, every response sent {@code delay} after its request
     * arrived, and the response to the {@code stallRequest}-th request (1-based, counted over all connections;
     * 0: none) sent {@code stall} late instead, once.
     */
    public FixedResponseUpstream(int responseBytes, String name, Duration delay, long stallRequest, Duration stall)
            throws InterruptedException {
        this(responseBytes, name, 200, null, delay, stallRequest, stall);
    }

    private FixedResponseUpstream(int responseBytes, String name, int status, String holdPath, Duration delay,
            long stallRequest, Duration stall) throws InterruptedException {
        this.name = name;
        this.delayNanos = delay.toNanos();
        this.stallRequest = stallRequest;
        this.stallNanos = stall.toNanos();
        this.status = HttpResponseStatus.valueOf(status);
        this.holdPath = holdPath;
        byte[] bytes = new byte[responseBytes];
        Arrays.fill(bytes, (byte) 'x');
        this.bodyStorage = Unpooled.directBuffer(responseBytes).writeBytes(bytes);
        this.body = Unpooled.unreleasableBuffer(bodyStorage);
        this.group = LoopbackTransport.newGroup(1, "bench-upstream");
        try {
            this.serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(LoopbackTransport.serverChannel())
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            HttpServerCodec codec = new HttpServerCodec();
                            HttpServerUpgradeHandler noUpgrade = new HttpServerUpgradeHandler(codec, protocol -> null);
                            ChannelHandler priorKnowledge = new ChannelInitializer<Channel>() {
                                @Override
                                protected void initChannel(Channel c) {
                                    c.pipeline().remove(AGGREGATOR);
                                    c.pipeline().remove(RESPONDER);
                                    c.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new H2Responder());
                                }
                            };
                            ch.pipeline().addLast(new CleartextHttp2ServerUpgradeHandler(codec, noUpgrade, priorKnowledge));
                            ch.pipeline().addLast(AGGREGATOR, new HttpObjectAggregator(MAX_REQUEST_BYTES));
                            ch.pipeline().addLast(RESPONDER, new Responder());
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            bodyStorage.release();
            throw e;
        }
    }

    /** The name in {@value #IDENTITY_HEADER}, or null. */
    String name() {
        return name;
    }

    /** Requests received so far, answered or held. */
    public long requestsReceived() {
        return received.sum();
    }

    /** Requests received to the hold path, never answered. */
    long requestsHeld() {
        return held.sum();
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /**
     * When the response to a request arriving now is due, in nanoseconds from now: 0 for at once. Called on the
     * server's one event loop, so the count needs no synchronisation.
     */
    private long responseDelayNanos() {
        answered++;
        return answered == stallRequest ? stallNanos : delayNanos;
    }

    /** Runs {@code send} now, or after {@code nanos} on the connection's event loop. */
    private static void later(ChannelHandlerContext ctx, long nanos, Runnable send) {
        if (nanos <= 0) {
            send.run();
        } else {
            ctx.executor().schedule(send, nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        bodyStorage.release(); // the loop has stopped: no response can still be writing it
    }

    private final class Responder extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            // The aggregated request (and its body) is released by SimpleChannelInboundHandler.
            received.increment();
            if (holdPath != null && holdPath.equals(request.uri())) {
                held.increment();
                return;
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body.duplicate());
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            if (name != null) {
                response.headers().set(IDENTITY_HEADER, name);
            }
            later(ctx, responseDelayNanos(), () -> {
                if (keepAlive) {
                    ctx.writeAndFlush(response, ctx.voidPromise());
                } else {
                    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                }
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * HTTP/2 (prior knowledge): each stream is answered, once its request has ended, with 200 and the fixed
     * body. A request body is read and released (its flow-control window handed back as it is read).
     */
    private final class H2Responder extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame h) {
                received.increment();
                if (h.isEndStream()) {
                    answer(ctx, h.stream());
                }
            } else if (msg instanceof Http2DataFrame d) {
                try {
                    if (d.isEndStream()) {
                        answer(ctx, d.stream());
                    } else if (d.initialFlowControlledBytes() > 0) {
                        ctx.write(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(d.stream()),
                                ctx.voidPromise());
                    }
                } finally {
                    d.release();
                }
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        private void answer(ChannelHandlerContext ctx, Http2FrameStream stream) {
            Http2Headers headers = new DefaultHttp2Headers().status(status.codeAsText())
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            if (name != null) {
                headers.set(IDENTITY_HEADER, name);
            }
            later(ctx, responseDelayNanos(), () -> {
                ctx.write(new DefaultHttp2HeadersFrame(headers, false).stream(stream), ctx.voidPromise());
                ctx.writeAndFlush(new DefaultHttp2DataFrame(body.duplicate(), true).stream(stream), ctx.voidPromise());
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
