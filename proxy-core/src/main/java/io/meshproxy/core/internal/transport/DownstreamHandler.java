package io.meshproxy.core.internal.transport;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.BodyTooLargeException;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.http.ResponseFlag;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionStage;

/**
 * The downstream side of one HTTP/1.1 connection (requests one after another, pipelined ones queued) or of
 * one HTTP/2 stream (a single request). It turns the request into meshproxy's, runs the listener's filter
 * chain, writes the response back with backpressure, and turns every failure into a local reply with the
 * right status and response flag.
 */
final class DownstreamHandler extends ChannelInboundHandlerAdapter {
    private final ListenerRuntime listener;
    private final boolean http2;
    private Channel channel;
    private Exchange current;
    private ArrayDeque<Object> pipelined;
    private boolean closeAfterResponse;
    private boolean draining;
    /** An HTTP/1.1 request without a body was taken as complete; its codec-made empty last chunk is dropped. */
    private boolean swallowLastContent;

    DownstreamHandler(ListenerRuntime listener, boolean http2) {
        this.listener = listener;
        this.http2 = http2;
    }

    /** The HTTP/1.1 connection's request-headers timer (null on HTTP/2 or when disabled), found once. */
    private RequestHeadersTimeoutHandler headersTimeout;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        headersTimeout = http2 ? null : ctx.pipeline().get(RequestHeadersTimeoutHandler.class);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (swallowLastContent && msg instanceof HttpContent c) {
            if (c instanceof LastHttpContent) {
                swallowLastContent = false;
            }
            c.release();
            return;
        }
        if (current != null && current.requestEnded) {
            if (http2) {
                ReferenceCountUtil.release(msg);
                return;
            }
            // HTTP/1.1 pipelining: answer in order, one at a time; stop reading until this one is done.
            if (pipelined == null) {
                pipelined = new ArrayDeque<>(2);
            }
            pipelined.add(msg);
            channel.config().setAutoRead(false);
            return;
        }
        if (msg instanceof io.netty.handler.codec.http.HttpRequest req) {
            if (current != null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            onRequest(ctx, req);
        } else if (msg instanceof HttpContent content) {
            if (current != null) {
                current.onContent(content);
            } else {
                content.release();
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onRequest(ChannelHandlerContext ctx, io.netty.handler.codec.http.HttpRequest req) {
        if (headersTimeout != null) {
            headersTimeout.headersReceived();
        }
        if (req.decoderResult().isFailure()) {
            Throwable cause = req.decoderResult().cause();
            ReferenceCountUtil.release(req);
            int status = cause instanceof TooLongHttpHeaderException ? 431
                    : cause instanceof TooLongHttpLineException ? 414
                    : cause instanceof TooLongFrameException ? 431 : 400;
            closeAfterResponse = true;
            Exchange ex = new Exchange(req.method(), "-", "-");
            current = ex;
            ex.requestEnded = true;
            ex.ctx.addResponseFlag(ResponseFlag.DPE);
            ex.ctx.responseCodeDetails(status == 400 ? "http1.codec_error"
                    : status == 414 ? "http1.request_line_too_long" : "http1.headers_too_large");
            ex.sendResponse(LocalReplies.of(status, status == 400 ? "Bad Request"
                    : status == 414 ? "URI Too Long" : "Request Header Fields Too Large"));
            return;
        }
        if (!http2 && !HttpUtil.isKeepAlive(req)) {
            closeAfterResponse = true;
        }
        Exchange ex = new Exchange(req.method(), req.headers().get("host"), req.uri());
        current = ex;
        ex.start(ctx, req);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof HttpServerUpgradeHandler.UpgradeEvent
                || evt instanceof CleartextHttp2ServerUpgradeHandler.PriorKnowledgeUpgradeEvent) {
            // The connection now speaks HTTP/2: streams get their own handlers; this one steps aside.
            if (headersTimeout != null) {
                ctx.pipeline().remove(headersTimeout);
                headersTimeout = null;
            }
            ctx.pipeline().remove(this);
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (evt == RequestHeadersTimeoutHandler.EVENT && current == null) {
            closeAfterResponse = true;
            Exchange ex = new Exchange(HttpMethod.GET, "-", "-");
            current = ex;
            ex.requestEnded = true;
            ex.ctx.responseCodeDetails("request_header_timeout");
            ex.sendResponse(LocalReplies.of(408, "request timeout"));
            return;
        }
        if (evt instanceof IdleStateEvent && current == null) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** Graceful drain of an HTTP/1.1 connection: close now if idle, else after the current response. */
    void drain() {
        draining = true;
        if (current == null) {
            channel.close();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null && current.writer != null) {
            current.writer.onWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (current != null) {
            current.downstreamClosed();
        }
        if (pipelined != null) {
            pipelined.forEach(ReferenceCountUtil::release);
            pipelined.clear();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // I/O errors (connection reset by peer) end up here: the connection is gone; channelInactive cleans up.
        ctx.close();
    }

    private void exchangeFinished(boolean ok, boolean requestIncomplete) {
        current = null;
        if (http2) {
            if (!ok || requestIncomplete) {
                channel.close(); // RST_STREAM: the rest of the request will not be read
            }
            return;
        }
        if (!ok || closeAfterResponse || draining || listener.draining() || requestIncomplete) {
            channel.close();
            return;
        }
        if (headersTimeout != null) {
            headersTimeout.exchangeFinished();
        }
        // Replay what was read ahead, in order: the next request and its body; a request after that
        // waits (queued again) until this one is answered.
        ChannelHandlerContext ctx = channel.pipeline().context(this);
        while (pipelined != null && !pipelined.isEmpty() && (current == null || !current.requestEnded)) {
            channelRead(ctx, pipelined.poll());
        }
        if ((pipelined == null || pipelined.isEmpty()) && (current == null || !current.requestEnded)) {
            channel.config().setAutoRead(true);
            channel.read();
        }
    }

    /** One request/response exchange on this stream. */
    private final class Exchange implements ChannelBodyWriter.Outcome, StreamBody.Source {
        final RequestContext ctx;
        final EventLoop loop;
        final String method;
        final String authority;
        final String path;
        final boolean headRequest;
        StreamBody requestBody;
        ChannelBodyWriter writer;
        boolean requestEnded;
        boolean responseStarted;
        boolean done;
        /** A gRPC request: local replies take gRPC's trailers-only form. */
        boolean grpc;
        int status;
        long bytesSent;

        Exchange(HttpMethod method, String authority, String path) {
            this.loop = channel.eventLoop();
            this.method = method.name();
            this.authority = authority;
            this.path = path;
            this.headRequest = method == HttpMethod.HEAD;
            Channel conn = http2 ? channel.parent() : channel;
            boolean secure = listener.config().tlsMode() != io.meshproxy.core.config.DownstreamTlsMode.DISABLE
                    && conn.hasAttr(Tls.SECURE);
            this.ctx = new RequestContext(listener.name(), http2 ? "HTTP/2" : "HTTP/1.1",
                    (InetSocketAddress) conn.remoteAddress(), (InetSocketAddress) conn.localAddress(), secure, loop,
                    System.nanoTime());
            if (secure) {
                this.ctx.peerPrincipal(conn.attr(Tls.PEER_PRINCIPAL).get());
            }
            this.ctx.streamIdleTimeout(listener.config().streamIdleTimeout());
            this.ctx.events(listener.events());
        }

        void start(ChannelHandlerContext chctx, io.netty.handler.codec.http.HttpRequest req) {
            long maxBody = listener.config().maxRequestBodyBytes();
            long declared = HttpUtil.getContentLength(req, -1L);
            if (maxBody > 0 && declared > maxBody) {
                ReferenceCountUtil.release(req);
                requestEnded = true;
                closeAfterResponse = true;
                ctx.responseCodeDetails("request_payload_too_large");
                sendResponse(LocalReplies.of(413, "Payload Too Large"));
                return;
            }
            if (!http2 && HttpUtil.is100ContinueExpected(req)) {
                chctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
            }
            Body body;
            FullHttpRequest full = req instanceof FullHttpRequest f ? f : null;
            if (full != null && !full.content().isReadable() && full.trailingHeaders().isEmpty()) {
                full.release();
                body = Body.empty();
                requestEnded = true;
            } else if (!http2 && full == null && declared <= 0 && !HttpUtil.isTransferEncodingChunked(req)) {
                // HTTP/1.1 (RFC 9112 §6.3): no content-length and no chunked coding means no body. Take the
                // request as complete now, so a response that finishes before the codec's empty last chunk
                // is read does not look like one that cut its request short.
                body = Body.empty();
                requestEnded = true;
                swallowLastContent = true;
            } else {
                requestBody = new StreamBody(loop, this, full != null ? full.content().readableBytes() : declared);
                body = requestBody;
            }
            HttpRequest request = NettyHttp.toRequest(req, "http", body);
            grpc = LocalReplies.isGrpc(request.headers().get("content-type"));
            if (full != null && requestBody != null) {
                onContent(full);
            }
            if (ctx.events() != io.meshproxy.core.filter.RequestEventListener.NONE) {
                ctx.events().onRequestStart(ctx, request);
            }
            CompletionStage<HttpResponse> response;
            try {
                response = listener.service().serve(ctx, request);
            } catch (Throwable t) {
                response = java.util.concurrent.CompletableFuture.failedFuture(t);
            }
            response.whenComplete((r, err) -> {
                if (loop.inEventLoop()) {
                    onResponse(r, err);
                } else {
                    loop.execute(() -> onResponse(r, err));
                }
            });
        }

        void onContent(HttpContent content) {
            if (requestBody == null) {
                content.release();
                return;
            }
            if (content.decoderResult().isFailure()) {
                content.release();
                ctx.addResponseFlag(ResponseFlag.DPE);
                closeAfterResponse = true;
                requestEnded = true;
                // the upstream attempt fails with this, so the client gets 400 (not a 503 for the reset)
                requestBody.onError(new io.meshproxy.core.http.LocalReplyException(400, ResponseFlag.DPE,
                        "http1.codec_error"));
                return;
            }
            long maxBody = listener.config().maxRequestBodyBytes();
            if (maxBody > 0 && requestBody.bytesReceived() + content.content().readableBytes() > maxBody) {
                content.release();
                closeAfterResponse = true;
                requestEnded = true;
                requestBody.onError(new BodyTooLargeException(maxBody));
                if (responseStarted && !done) {
                    reset();
                }
                return;
            }
            boolean last = content instanceof LastHttpContent;
            requestBody.onContent(content);
            if (last) {
                requestEnded = true;
                if (!http2) {
                    channel.config().setAutoRead(true); // watch for the client going away meanwhile
                }
            }
        }

        void onResponse(HttpResponse response, Throwable err) {
            if (done) {
                if (response != null) {
                    response.body().discard();
                }
                return;
            }
            if (err != null) {
                sendResponse(LocalReplies.toResponse(ctx, err, grpc));
            } else {
                sendResponse(response);
            }
        }

        void sendResponse(HttpResponse response) {
            if (done) {
                response.body().discard();
                return;
            }
            status = response.status();
            responseStarted = true;
            if (ctx.events() != io.meshproxy.core.filter.RequestEventListener.NONE) {
                ctx.events().onResponseHeaders(ctx, response);
            }
            boolean empty = response.body() == Body.empty();
            // A response to HEAD is complete at its head (its content-length describes the GET it stands for).
            boolean full = empty || headRequest;
            boolean close = closeAfterResponse || draining || listener.draining();
            Object head = NettyHttp.toNettyResponse(response, full, headRequest, !http2, close);
            if (full) {
                if (!empty) {
                    response.body().discard();
                }
                channel.writeAndFlush(head).addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        written(0);
                    } else {
                        failed(f.cause());
                    }
                });
                return;
            }
            writer = new ChannelBodyWriter(channel, this);
            writer.writeHead(head);
            response.body().subscribe(writer);
        }

        @Override
        public void written(long bytes) {
            bytesSent = bytes;
            finish(true);
        }

        @Override
        public void failed(Throwable cause) {
            // The response body failed mid-stream (upstream reset, timeout): the client must see a reset,
            // not a truncated message that looks complete.
            if (!done) {
                if (!channel.isActive()) {
                    // The write failed because the client is gone (its close may not have been read yet).
                    ctx.addResponseFlag(ResponseFlag.DC);
                } else if (!ctx.hasResponseFlag(ResponseFlag.DC) && !ctx.hasResponseFlag(ResponseFlag.UT)
                        && !ctx.hasResponseFlag(ResponseFlag.UR) && !ctx.hasResponseFlag(ResponseFlag.UC)) {
                    ctx.addResponseFlag(ResponseFlag.UR);
                }
            }
            reset();
        }

        private void reset() {
            if (writer != null) {
                writer.cancel();
            }
            finish(false);
        }

        void downstreamClosed() {
            if (done) {
                return;
            }
            ctx.addResponseFlag(ResponseFlag.DC);
            ctx.cancel();
            if (requestBody != null && !requestBody.inputEnded()) {
                requestBody.onError(new IOException("downstream connection terminated"));
            }
            if (writer != null) {
                writer.cancel();
            }
            finish(false);
        }

        private void finish(boolean ok) {
            if (done) {
                return;
            }
            done = true;
            boolean requestIncomplete = requestBody != null && !requestBody.inputEnded();
            if (requestBody != null && !requestBody.finished()) {
                requestBody.abandon();
            }
            if (!ok) {
                ctx.cancel();
            }
            if (listener.logging()) {
                listener.end(ctx, new RequestLog(listener.name(), ctx.protocol(), method, authority, path, ctx.requestId(),
                        ctx.routeName(), ctx.upstreamCluster(), ctx.upstreamHost(), responseStarted ? status : 0,
                        ctx.responseFlags(), ctx.responseCodeDetails(),
                        requestBody == null ? 0 : requestBody.bytesReceived(), bytesSent,
                        System.nanoTime() - ctx.startNanos()));
            }
            exchangeFinished(ok, requestIncomplete);
        }

        // ---- StreamBody.Source: backpressure on the downstream request body ----

        @Override
        public void pause() {
            channel.config().setAutoRead(false);
        }

        @Override
        public void resume() {
            channel.config().setAutoRead(true);
            channel.read();
        }

        @Override
        public void cancelled() {
            // Nobody will read the rest of the request: keep reading and dropping it so the connection
            // notices a close, and do not reuse an HTTP/1.1 connection with half a body in it.
            closeAfterResponse = true;
            channel.config().setAutoRead(true);
            channel.read();
        }
    }
}
