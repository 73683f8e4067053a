package io.meshproxy.benchmarks.harness;

import io.meshproxy.benchmarks.FixedResponseUpstream;
import io.meshproxy.benchmarks.KeepAliveClient;
import io.meshproxy.benchmarks.LoopbackTransport;
import io.meshproxy.benchmarks.harness.OpenLoopLoad.Connection;
import io.meshproxy.benchmarks.harness.OpenLoopLoad.Reply;
import io.meshproxy.benchmarks.harness.OpenLoopLoad.Target;
import io.meshproxy.core.MeshClient;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The load's targets: an HTTP/1.1 or an HTTP/2 (cleartext, prior knowledge) server on loopback, or the
 * meshproxy in-process client. Requests are {@code GET path}, or — with {@code requestBytes > 0} — a
 * {@code POST} of that many bytes; {@code authority} is the {@code Host} ({@code :authority}).
 */
public final class Targets {
    /** Streams one HTTP/2 connection carries at once: Envoy's and Netty's usual default of 100. */
    public static final int H2_STREAMS_PER_CONNECTION = 100;
    /** The largest response body an in-process response may have before it counts as failed. */
    private static final int MAX_BODY = 16 * 1024 * 1024;

    private Targets() {}

    /** HTTP/1.1 on keep-alive connections to {@code 127.0.0.1:port}, one request at a time on each. */
    public static Target http1(int port, String authority, String path, int requestBytes) {
        byte[] body = body(requestBytes);
        return group -> new Http1(new KeepAliveClient(group, port, authority), path, body);
    }

    /** HTTP/2 with prior knowledge to {@code 127.0.0.1:port}; each connection carries up to 100 streams. */
    public static Target h2c(int port, String authority, String path, int requestBytes) {
        byte[] body = body(requestBytes);
        return group -> H2c.connect(group, port, authority, path, body);
    }

    /**
     * The in-process client {@link MeshClient#execute}: each "connection" is a slot on one of {@code group}'s
     * loops carrying one request at a time, as an HTTP/1.1 connection does; the response body is read whole.
     * The response completes on the mesh's loop and is handed to the slot's loop: one thread hop, as a socket
     * read is one wake-up on the other paths.
     */
    public static Target inProcess(MeshClient client, String authority, String path, int requestBytes) {
        byte[] body = body(requestBytes);
        return group -> new InProcess(group.next(), client, authority, path, body);
    }

    private static byte[] body(int requestBytes) {
        if (requestBytes <= 0) {
            return null;
        }
        byte[] b = new byte[requestBytes];
        Arrays.fill(b, (byte) 'y');
        return b;
    }

    private static final class Http1 implements Connection {
        private final KeepAliveClient client;
        private final String path;
        private final byte[] body;

        Http1(KeepAliveClient client, String path, byte[] body) {
            this.client = client;
            this.path = path;
            this.body = body;
        }

        @Override
        public EventLoop eventLoop() {
            return client.eventLoop();
        }

        @Override
        public int maxInFlight() {
            return 1;
        }

        @Override
        public CompletableFuture<Reply> send() {
            CompletableFuture<KeepAliveClient.Response> f = body == null ? client.get(path) : client.post(path, body);
            return f.thenApply(r -> new Reply(r.status(), r.upstream()));
        }

        @Override
        public boolean isOpen() {
            return client.isOpen();
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /** One HTTP/2 connection; streams are matched to their futures by {@link Http2FrameStream}. Loop-confined. */
    private static final class H2c extends Http2ChannelDuplexHandler implements Connection {
        private final String authority;
        private final String path;
        private final byte[] body;
        private final Map<Http2FrameStream, Pending> pending = new HashMap<>();
        private Channel channel;

        private static final class Pending {
            final CompletableFuture<Reply> future = new CompletableFuture<>();
            int status;
            String upstream;
        }

        private H2c(String authority, String path, byte[] body) {
            this.authority = authority;
            this.path = path;
            this.body = body;
        }

        static H2c connect(EventLoopGroup group, int port, String authority, String path, byte[] body)
                throws InterruptedException {
            H2c h = new H2c(authority, path, body);
            h.channel = new Bootstrap()
                    .group(group)
                    .channel(LoopbackTransport.socketChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(), h);
                        }
                    })
                    .connect("127.0.0.1", port).sync().channel();
            return h;
        }

        @Override
        public EventLoop eventLoop() {
            return channel.eventLoop();
        }

        @Override
        public int maxInFlight() {
            return H2_STREAMS_PER_CONNECTION;
        }

        @Override
        public CompletableFuture<Reply> send() {
            Pending p = new Pending();
            if (!channel.isActive()) {
                p.future.completeExceptionally(new ClosedChannelException());
                return p.future;
            }
            Http2FrameStream stream = newStream();
            pending.put(stream, p);
            Http2Headers headers = new DefaultHttp2Headers().method(body == null ? "GET" : "POST").scheme("http")
                    .authority(authority).path(path);
            if (body != null) {
                headers.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                channel.write(new DefaultHttp2HeadersFrame(headers, false).stream(stream), channel.voidPromise());
                channel.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true).stream(stream))
                        .addListener(w -> failed(stream, w.cause()));
            } else {
                channel.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true).stream(stream))
                        .addListener(w -> failed(stream, w.cause()));
            }
            return p.future;
        }

        private void failed(Http2FrameStream stream, Throwable cause) {
            if (cause != null) {
                Pending p = pending.remove(stream);
                if (p != null) {
                    p.future.completeExceptionally(cause);
                }
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame h) {
                Pending p = pending.get(h.stream());
                if (p != null) {
                    CharSequence status = h.headers().status();
                    if (status != null && p.status == 0) {
                        p.status = Integer.parseInt(status.toString());
                        CharSequence up = h.headers().get(FixedResponseUpstream.IDENTITY_HEADER);
                        p.upstream = up == null ? null : up.toString();
                    }
                    if (h.isEndStream()) {
                        complete(h.stream());
                    }
                }
            } else if (msg instanceof Http2DataFrame d) {
                try {
                    if (d.isEndStream()) {
                        complete(d.stream()); // a closed stream hands its window back by itself
                    } else if (d.initialFlowControlledBytes() > 0) {
                        ctx.write(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(d.stream()),
                                ctx.voidPromise());
                    }
                } finally {
                    d.release();
                }
            } else if (msg instanceof Http2ResetFrame r) {
                failed(r.stream(), new IOException("stream reset: error code " + r.errorCode()));
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush(); // window updates
            ctx.fireChannelReadComplete();
        }

        private void complete(Http2FrameStream stream) {
            Pending p = pending.remove(stream);
            if (p != null) {
                p.future.complete(new Reply(p.status, p.upstream));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            failAll(new ClosedChannelException());
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failAll(cause instanceof IOException ? cause : new IOException(cause));
            ctx.close();
        }

        private void failAll(Throwable cause) {
            for (Pending p : pending.values()) {
                p.future.completeExceptionally(cause);
            }
            pending.clear();
        }

        @Override
        public boolean isOpen() {
            return channel.isActive();
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
        }
    }

    private static final class InProcess implements Connection {
        private final EventLoop loop;
        private final MeshClient client;
        private final String authority;
        private final String path;
        private final byte[] body;

        InProcess(EventLoop loop, MeshClient client, String authority, String path, byte[] body) {
            this.loop = loop;
            this.client = client;
            this.authority = authority;
            this.path = path;
            this.body = body;
        }

        @Override
        public EventLoop eventLoop() {
            return loop;
        }

        @Override
        public int maxInFlight() {
            return 1;
        }

        @Override
        public CompletableFuture<Reply> send() {
            HttpRequest request = body == null ? HttpRequest.get(authority, path)
                    : HttpRequest.post(authority, path, Body.of(body));
            CompletableFuture<Reply> result = new CompletableFuture<>();
            client.execute(request).thenCompose(this::read).whenComplete((reply, failure) -> loop.execute(() -> {
                if (failure != null) {
                    result.completeExceptionally(failure);
                } else {
                    result.complete(reply);
                }
            }));
            return result;
        }

        private CompletableFuture<Reply> read(HttpResponse r) {
            String upstream = r.headers().get(FixedResponseUpstream.IDENTITY_HEADER);
            return r.body().aggregate(MAX_BODY).thenApply(b -> new Reply(r.status(), upstream));
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
            // nothing held: the mesh owns its connections to the upstream
        }
    }
}
