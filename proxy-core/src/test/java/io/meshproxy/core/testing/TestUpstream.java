package io.meshproxy.core.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on loopback for tests: HTTP/1.1 and cleartext HTTP/2 (prior knowledge and upgrade) on
 * one port, behaviour chosen by path:
 * <ul>
 *   <li>{@code /echo...}: streams the request body back (with backpressure), request trailers become response trailers;
 *   <li>{@code /bytes/N}: N bytes of {@link #pattern} data, streamed with backpressure;
 *   <li>{@code /sink}: reads the body, answers {@code <count> <sha256 hex>};
 *   <li>{@code /headers}: answers the request headers as {@code name: value} lines (plus {@code :method},
 *       {@code :path}, {@code :authority}, {@code :protocol});
 *   <li>{@code /delay/MS}: answers after MS milliseconds;
 *   <li>{@code /reset}: closes the connection (HTTP/1.1) or resets the stream (HTTP/2) without answering;
 *   <li>{@code /status/CODE}: answers CODE;
 *   <li>{@code /hold}: answers 200 {@code released} when the test calls {@link #releaseHeld()};
 *   <li>{@code /close}: reads the body, answers with {@code Connection: close}, closes the connection 100 ms later;
 *   <li>anything else: 200 with the server's name as body.
 * </ul>
 * Every response carries {@code x-upstream: <name>}.
 */
public final class TestUpstream implements AutoCloseable {
    private final String name;
    private final EventLoopGroup group;
    private final Channel server;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger maxConcurrentStreams = new AtomicInteger();
    private final AtomicInteger activeStreams = new AtomicInteger();
    private final Long h2MaxConcurrentStreams;
    private volatile String forcedMode;
    private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> held = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private TestUpstream(String name, Long h2MaxConcurrentStreams) throws InterruptedException {
        this.name = name;
        this.h2MaxConcurrentStreams = h2MaxConcurrentStreams;
        this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        HttpServerCodec codec = new HttpServerCodec();
                        HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(codec, p ->
                                AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, p)
                                        ? new Http2ServerUpgradeCodec(h2Codec(), new Http2MultiplexHandler(streams()))
                                        : null, 1 << 20);
                        ch.pipeline().addLast(new CleartextHttp2ServerUpgradeHandler(codec, upgrade,
                                new ChannelInitializer<Channel>() {
                                    @Override
                                    protected void initChannel(Channel c) {
                                        c.pipeline().addLast(h2Codec(), new Http2MultiplexHandler(streams()));
                                    }
                                }));
                        ch.pipeline().addLast(new Handler(false));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    public static TestUpstream start(String name) throws InterruptedException {
        return new TestUpstream(name, null);
    }

    /** An upstream whose HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS is {@code max}. */
    public static TestUpstream startWithMaxStreams(String name, long max) throws InterruptedException {
        return new TestUpstream(name, max);
    }

    private io.netty.handler.codec.http2.Http2FrameCodec h2Codec() {
        Http2Settings s = Http2Settings.defaultSettings();
        if (h2MaxConcurrentStreams != null) {
            s.maxConcurrentStreams(h2MaxConcurrentStreams);
        }
        return Http2FrameCodecBuilder.forServer().initialSettings(s).build();
    }

    private ChannelInitializer<Http2StreamChannel> streams() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true), new Handler(true));
            }
        };
    }

    public String name() {
        return name;
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /**
     * From now on every request, whatever its path, is answered {@code status} (after its body is read), as
     * by {@code /status/CODE}; 0 goes back to answering by path.
     */
    public TestUpstream answerEverythingWith(int status) {
        forcedMode = status == 0 ? null : "status:" + status;
        return this;
    }

    /**
     * From now on every request is refused without being processed: HTTP/2 streams are reset with
     * REFUSED_STREAM, HTTP/1.1 connections closed.
     */
    public TestUpstream refuseEverything() {
        forcedMode = "refuse";
        return this;
    }

    /** From now on every request, whatever its path, is answered 200 after {@code ms}, as by {@code /delay/MS}. */
    public TestUpstream delayEverything(long ms) {
        forcedMode = "delay:" + ms;
        return this;
    }

    /** TCP connections accepted so far. */
    public int connectionsAccepted() {
        return connections.get();
    }

    /** Requests received so far. */
    public int requestsReceived() {
        return requests.get();
    }

    /** The most HTTP/2 streams (or HTTP/1.1 requests) seen in flight at once. */
    public int maxConcurrentRequests() {
        return maxConcurrentStreams.get();
    }

    /** {@code /hold} requests received and not yet released. */
    public int heldRequests() {
        return held.size();
    }

    /** Answers every {@code /hold} request received so far; later ones wait for the next call. */
    public void releaseHeld() {
        Runnable r;
        while ((r = held.poll()) != null) {
            r.run();
        }
    }

    @Override
    public void close() {
        if (group.isShuttingDown()) {
            return; // closed already (a test may stop a server mid-test and again at the end)
        }
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Byte {@code i} of every generated body: a repeating, position-dependent pattern. */
    public static byte pattern(long i) {
        return (byte) ((i * 31 + (i >>> 8)) & 0xFF);
    }

    /** Fills {@code buf} with pattern bytes starting at offset {@code pos}. */
    public static void fillPattern(byte[] buf, long pos, int len) {
        for (int i = 0; i < len; i++) {
            buf[i] = pattern(pos + i);
        }
    }

    /** SHA-256 hex of {@code n} pattern bytes. */
    public static String patternSha256(long n) {
        MessageDigest md = sha256();
        byte[] chunk = new byte[65536];
        for (long pos = 0; pos < n; pos += chunk.length) {
            int len = (int) Math.min(chunk.length, n - pos);
            fillPattern(chunk, pos, len);
            md.update(chunk, 0, len);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        private final boolean http2;
        private String mode;
        private MessageDigest digest;
        private long count;
        private long toSend;
        private long sent;
        private boolean generating;
        private boolean counted;
        private boolean headRequest;

        Handler(boolean http2) {
            this.http2 = http2;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest req) {
                    onRequest(ctx, req);
                }
                if (msg instanceof HttpContent c) {
                    onContent(ctx, c);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void begin() {
            requests.incrementAndGet();
            int now = activeStreams.incrementAndGet();
            counted = true;
            maxConcurrentStreams.accumulateAndGet(now, Math::max);
        }

        private void end() {
            if (counted) {
                counted = false;
                activeStreams.decrementAndGet();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            end();
            ctx.fireChannelInactive();
        }

        private HttpResponse head(HttpResponseStatus status) {
            HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
            r.headers().set("x-upstream", name);
            return r;
        }

        private void onRequest(ChannelHandlerContext ctx, HttpRequest req) {
            begin();
            headRequest = io.netty.handler.codec.http.HttpMethod.HEAD.equals(req.method());
            // a keep-alive connection serves many requests with one handler: start each from scratch
            count = 0;
            sent = 0;
            toSend = 0;
            generating = false;
            String path = req.uri();
            int q = path.indexOf('?');
            String p = q < 0 ? path : path.substring(0, q);
            String forced = forcedMode;
            if (forced != null) {
                mode = forced;
            } else if (p.startsWith("/echo")) {
                mode = "echo";
                HttpResponse r = head(HttpResponseStatus.OK);
                String ct = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
                if (ct != null) {
                    r.headers().set(HttpHeaderNames.CONTENT_TYPE, ct);
                }
                String cl = req.headers().get(HttpHeaderNames.CONTENT_LENGTH);
                if (cl != null) {
                    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, cl);
                } else if (!http2) {
                    HttpUtil.setTransferEncodingChunked(r, true);
                }
                ctx.writeAndFlush(r);
            } else if (p.startsWith("/sink")) {
                mode = "sink";
                digest = sha256();
            } else if (p.startsWith("/bytes/")) {
                mode = "bytes";
                toSend = Long.parseLong(p.substring("/bytes/".length()));
            } else if (p.startsWith("/reset")) {
                mode = "reset";
            } else if (p.startsWith("/delay/")) {
                mode = "delay:" + p.substring("/delay/".length());
            } else if (p.startsWith("/hold")) {
                mode = "hold";
            } else if (p.startsWith("/close")) {
                mode = "close";
            } else if (p.startsWith("/status/")) {
                mode = "status:" + p.substring("/status/".length());
            } else if (p.startsWith("/headers")) {
                StringBuilder sb = new StringBuilder();
                sb.append(":method: ").append(req.method()).append('\n');
                sb.append(":path: ").append(req.uri()).append('\n');
                sb.append(":protocol: ").append(http2 ? "HTTP/2" : "HTTP/1.1").append('\n');
                for (Map.Entry<String, String> e : req.headers()) {
                    sb.append(e.getKey().toLowerCase(java.util.Locale.ROOT)).append(": ").append(e.getValue()).append('\n');
                }
                mode = "text:" + sb;
            } else {
                mode = "text:" + name;
            }
        }

        private void onContent(ChannelHandlerContext ctx, HttpContent c) {
            boolean last = c instanceof LastHttpContent;
            switch (mode.startsWith("text:") ? "text" : mode.startsWith("delay:") ? "delay"
                    : mode.startsWith("status:") ? "status" : mode) {
                case "echo" -> {
                    if (last) {
                        LastHttpContent l = (LastHttpContent) c;
                        DefaultLastHttpContent out = new DefaultLastHttpContent(c.content().retain());
                        out.trailingHeaders().set(l.trailingHeaders());
                        ctx.writeAndFlush(out);
                        end();
                    } else {
                        ctx.writeAndFlush(new DefaultHttpContent(c.content().retain()));
                        if (!ctx.channel().isWritable()) {
                            ctx.channel().config().setAutoRead(false);
                        }
                    }
                }
                case "sink" -> {
                    ByteBuf b = c.content();
                    count += b.readableBytes();
                    if (b.hasArray()) {
                        digest.update(b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes());
                    } else {
                        digest.update(b.nioBuffer());
                    }
                    if (last) {
                        full(ctx, HttpResponseStatus.OK, count + " " + HexFormat.of().formatHex(digest.digest()));
                    }
                }
                case "bytes" -> {
                    if (last) {
                        HttpResponse r = head(HttpResponseStatus.OK);
                        HttpUtil.setContentLength(r, toSend);
                        ctx.writeAndFlush(r);
                        if (headRequest) { // the headers a GET would get, and no body
                            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                            end();
                            return;
                        }
                        generating = true;
                        generate(ctx);
                    }
                }
                case "reset" -> {
                    if (last) {
                        if (http2) {
                            ctx.channel().close();
                        } else {
                            ctx.channel().close();
                        }
                        end();
                    }
                }
                case "close" -> {
                    if (last) {
                        byte[] b = "closing".getBytes(StandardCharsets.UTF_8);
                        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                                Unpooled.wrappedBuffer(b));
                        r.headers().set("x-upstream", name);
                        HttpUtil.setContentLength(r, b.length);
                        if (!http2) {
                            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                        }
                        end();
                        ctx.writeAndFlush(r);
                        if (!http2) { // closes a little later, so a client that ignores the header can misuse it
                            ctx.executor().schedule(() -> ctx.channel().close(), 100, TimeUnit.MILLISECONDS);
                        }
                    }
                }
                case "delay" -> {
                    if (last) {
                        long ms = Long.parseLong(mode.substring("delay:".length()));
                        ctx.executor().schedule(() -> full(ctx, HttpResponseStatus.OK, "delayed " + ms),
                                ms, TimeUnit.MILLISECONDS);
                    }
                }
                case "refuse" -> {
                    if (last) {
                        end();
                        if (http2) {
                            ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(
                                    io.netty.handler.codec.http2.Http2Error.REFUSED_STREAM));
                        } else {
                            ctx.close();
                        }
                    }
                }
                case "hold" -> {
                    if (last) {
                        held.add(() -> ctx.executor().execute(() -> full(ctx, HttpResponseStatus.OK, "released")));
                    }
                }
                case "status" -> {
                    if (last) {
                        int code = Integer.parseInt(mode.substring("status:".length()));
                        full(ctx, HttpResponseStatus.valueOf(code), "status " + code);
                    }
                }
                default -> {
                    if (last) {
                        full(ctx, HttpResponseStatus.OK, mode.substring("text:".length()));
                    }
                }
            }
        }

        private void full(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
            if (!ctx.channel().isActive()) {
                end();
                return;
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(b));
            r.headers().set("x-upstream", name);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
            HttpUtil.setContentLength(r, b.length);
            ctx.writeAndFlush(r);
            end();
        }

        private void generate(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            while (generating && ch.isWritable() && sent < toSend) {
                int len = (int) Math.min(65536, toSend - sent);
                ByteBuf buf = ctx.alloc().buffer(len);
                byte[] tmp = new byte[len];
                fillPattern(tmp, sent, len);
                buf.writeBytes(tmp);
                sent += len;
                ctx.writeAndFlush(new DefaultHttpContent(buf));
            }
            if (generating && sent >= toSend) {
                generating = false;
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                end();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                if (generating) {
                    generate(ctx);
                }
                if ("echo".equals(mode)) {
                    ctx.channel().config().setAutoRead(true);
                    ctx.channel().read();
                }
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof HttpServerUpgradeHandler.UpgradeEvent
                    || evt instanceof CleartextHttp2ServerUpgradeHandler.PriorKnowledgeUpgradeEvent) {
                ctx.pipeline().remove(this);
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
