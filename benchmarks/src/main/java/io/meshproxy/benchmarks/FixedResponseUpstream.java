package io.meshproxy.benchmarks;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
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
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
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
 */
final class FixedResponseUpstream implements AutoCloseable {
    private static final int MAX_REQUEST_BYTES = 16 * 1024 * 1024;
    /** The response header naming the upstream, when it has a name. */
    static final String IDENTITY_HEADER = "x-upstream";

    private final String name;
    private final HttpResponseStatus status;
    /** Requests to this path are read and never answered; null: every request is answered. */
    private final String holdPath;
    private final LongAdder received = new LongAdder();
    private final LongAdder held = new LongAdder();

    private final EventLoopGroup group;
    private final Channel serverChannel;
    /** Never released: every response sends a duplicate of it. */
    private final ByteBuf body;

    /** Starts the server on 127.0.0.1 on an ephemeral port; every response carries {@code responseBytes} bytes. */
    FixedResponseUpstream(int responseBytes) throws InterruptedException {
        this(responseBytes, null);
    }

    /** As {@link #FixedResponseUpstream(int)}, and every response carries {@code x-upstream: name} (null: none). */
    FixedResponseUpstream(int responseBytes, String name) throws InterruptedException {
        this(responseBytes, name, 200, null);
    }

    /**
     * As {@link #FixedResponseUpstream(int, String)}, answering with {@code status} instead of 200, and never
     * answering a request whose path is {@code holdPath} (null: none): such a request stays in flight until
     * its connection closes.
     */
    FixedResponseUpstream(int responseBytes, String name, int status, String holdPath) throws InterruptedException {
        this.name = name;
        this.status = HttpResponseStatus.valueOf(status);
        this.holdPath = holdPath;
        byte[] bytes = new byte[responseBytes];
        Arrays.fill(bytes, (byte) 'x');
        this.body = Unpooled.unreleasableBuffer(Unpooled.directBuffer(responseBytes).writeBytes(bytes));
        this.group = LoopbackTransport.newGroup(1, "bench-upstream");
        try {
            this.serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(LoopbackTransport.serverChannel())
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                    new Responder());
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The name in {@value #IDENTITY_HEADER}, or null. */
    String name() {
        return name;
    }

    /** Requests received so far, answered or held. */
    long requestsReceived() {
        return received.sum();
    }

    /** Requests received to the hold path, never answered. */
    long requestsHeld() {
        return held.sum();
    }

    int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
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
            if (keepAlive) {
                ctx.writeAndFlush(response, ctx.voidPromise());
            } else {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
