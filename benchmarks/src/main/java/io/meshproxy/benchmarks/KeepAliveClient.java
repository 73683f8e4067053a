package io.meshproxy.benchmarks;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * The benchmark's HTTP/1.1 client: one keep-alive connection, one request outstanding at a time, a
 * {@link CompletableFuture} per response. The direct path and the listener path use this same client, so
 * the difference between them is the proxy.
 */
public final class KeepAliveClient implements AutoCloseable {
    private static final int MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

    private final Channel channel;
    private final String authority;
    private volatile CompletableFuture<Response> pending;
    /** Whether the pending request asked for its body as text ({@link #getText}). */
    private volatile boolean wantText;

    /**
     * What the benchmark keeps of a response: its status, body length (the body itself is released), the
     * {@code x-upstream} header of a named {@link FixedResponseUpstream} (null when absent), and the body as
     * UTF-8 text when the request was sent with {@link #getText} (null otherwise, so a measured request
     * decodes nothing).
     */
    public record Response(int status, int bodyBytes, String upstream, String text) {}

    /** Connects to {@code 127.0.0.1:port} on one of {@code group}'s loops; {@code authority} goes in {@code Host}. */
    public KeepAliveClient(EventLoopGroup group, int port, String authority) throws InterruptedException {
        this(group, port, authority, null);
    }

    /**
     * As {@link #KeepAliveClient(EventLoopGroup, int, String)}, over TLS when {@code tls} is not null (a client
     * context; its handler goes first in the pipeline, and requests wait in it until the handshake is done).
     */
    public KeepAliveClient(EventLoopGroup group, int port, String authority, SslContext tls) throws InterruptedException {
        this.authority = authority;
        this.channel = new Bootstrap()
                .group(group)
                .channel(LoopbackTransport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), "127.0.0.1", port));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_RESPONSE_BYTES),
                                new ResponseHandler());
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
    }

    /**
     * The event loop of this client's connection: a request sent from it, and the callbacks of its response
     * future registered there, run without a thread hand-off.
     */
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    /** A GET of {@code path}. */
    public CompletableFuture<Response> get(String path) {
        return send(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER));
    }

    /** A GET of {@code path} whose {@link Response#text()} is the body: for checks in setup, not for measuring. */
    CompletableFuture<Response> getText(String path) {
        return send(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER),
                true);
    }

    /** A POST of {@code body} (not copied: the caller must not change it) to {@code path}. */
    public CompletableFuture<Response> post(String path, byte[] body) {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path, content);
        request.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return send(request);
    }

    private CompletableFuture<Response> send(FullHttpRequest request) {
        return send(request, false);
    }

    private CompletableFuture<Response> send(FullHttpRequest request, boolean text) {
        CompletableFuture<Response> f = new CompletableFuture<>();
        if (pending != null) {
            request.release();
            throw new IllegalStateException("one request at a time: a request is still outstanding");
        }
        wantText = text;
        pending = f;
        request.headers().set(HttpHeaderNames.HOST, authority);
        channel.writeAndFlush(request).addListener(w -> {
            if (!w.isSuccess()) {
                fail(w.cause());
            }
        });
        return f;
    }

    private void fail(Throwable cause) {
        CompletableFuture<Response> f = pending;
        if (f != null) {
            pending = null;
            f.completeExceptionally(cause);
        }
    }

    /** Whether the connection is still open. */
    public boolean isOpen() {
        return channel.isActive();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private final class ResponseHandler extends SimpleChannelInboundHandler<FullHttpResponse> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
            CompletableFuture<Response> f = pending;
            if (f == null) {
                ctx.close();
                return;
            }
            pending = null;
            String text = wantText ? response.content().toString(StandardCharsets.UTF_8) : null;
            f.complete(new Response(response.status().code(), response.content().readableBytes(),
                    response.headers().get(FixedResponseUpstream.IDENTITY_HEADER), text));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(new ClosedChannelException());
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(cause instanceof IOException ? cause : new IOException(cause));
            ctx.close();
        }
    }
}
