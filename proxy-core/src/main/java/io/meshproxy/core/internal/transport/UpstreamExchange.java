package io.meshproxy.core.internal.transport;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.http.LocalReplyException;
import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.core.upstream.Host;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One attempt of one request to one upstream host: acquires a stream from the pool, writes the request
 * head and streams its body (pausing while the upstream cannot take more), completes {@link #response()}
 * with the upstream's response head, then streams the response body back with the same backpressure.
 * Failures before the response head become local replies (503 UF / UC / UR, 504 UT); after it, a reset of
 * the body. Lives on one event loop.
 */
public final class UpstreamExchange implements ChannelBodyWriter.Outcome, StreamBody.Source {
    private final RequestContext ctx;
    private final HttpRequest request;
    private final Host host;
    private final EventLoop loop;
    private final long timeoutNanos;
    private final CompletableFuture<HttpResponse> response = new CompletableFuture<>();
    private UpstreamStream stream;
    private ChannelBodyWriter requestWriter;
    private StreamBody responseBody;
    private ScheduledFuture<?> timer;
    private EndpointPool pool;
    private boolean staleRetried;
    private boolean upstreamCloses;
    private boolean headersReceived;
    private boolean requestDone;
    private boolean responseDone;
    private boolean finished;

    public UpstreamExchange(RequestContext ctx, HttpRequest request, Host host, EventLoop loop, Duration timeout) {
        this.ctx = ctx;
        this.request = request;
        this.host = host;
        this.loop = loop;
        this.timeoutNanos = timeout == null ? 0 : timeout.toNanos();
    }

    /** Completes with the upstream response head (body streaming), or a {@link LocalReplyException}. */
    public CompletableFuture<HttpResponse> response() {
        return response;
    }

    public Host host() {
        return host;
    }

    /** Starts the attempt on {@code pool}; call on the event loop. */
    public void start(EndpointPool pool) {
        assert loop.inEventLoop();
        host.requestStarted();
        ctx.onCancel(() -> abort(ResponseFlag.DC, new IOException("downstream connection terminated")));
        this.pool = pool;
        pool.acquire(this);
    }

    boolean isFinished() {
        return finished;
    }

    // ---- pool callbacks ----

    void onStream(UpstreamStream s) {
        if (finished) {
            s.release(true);
            return;
        }
        this.stream = s;
        Channel ch = s.channel();
        boolean full = request.body() == Body.empty();
        if (full) {
            ch.writeAndFlush(NettyHttp.toNettyRequest(request, true), ch.voidPromise());
            written(0);
        } else {
            requestWriter = new ChannelBodyWriter(ch, this);
            requestWriter.writeHead(NettyHttp.toNettyRequest(request, false));
            request.body().subscribe(requestWriter);
        }
    }

    void onAcquireFailed(Throwable cause, ResponseFlag flag) {
        if (finished) {
            return;
        }
        ctx.addResponseFlag(flag);
        fail(new LocalReplyException(503, flag, flag.details() + (cause == null ? "" : ": " + cause.getMessage())));
        request.body().discard();
        finish(false);
    }

    // ---- request body outcome ----

    @Override
    public void written(long bytes) {
        if (finished) {
            return;
        }
        requestDone = true;
        if (timeoutNanos > 0 && !responseDone) {
            timer = loop.schedule(this::onTimeout, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        if (responseDone) {
            finish(true);
        }
    }

    @Override
    public void failed(Throwable cause) {
        if (finished) {
            return;
        }
        if (cause instanceof LocalReplyException || cause instanceof io.meshproxy.core.http.BodyTooLargeException) {
            abort(null, cause);
        } else if (ctx.isCancelled()) {
            abort(ResponseFlag.DC, cause);
        } else {
            abort(stream != null && stream.http2() ? ResponseFlag.UR : ResponseFlag.UC, cause);
        }
    }

    // ---- upstream stream events ----

    void onWritabilityChanged() {
        if (requestWriter != null) {
            requestWriter.onWritabilityChanged();
        }
    }

    void onRead(HttpObject msg) {
        if (finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof io.netty.handler.codec.http.HttpResponse head) {
            if (head.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                abort(ResponseFlag.UPE, head.decoderResult().cause());
                return;
            }
            int code = head.status().code();
            if (code >= 100 && code < 200 && code != 101) {
                ReferenceCountUtil.release(msg); // informational (100 Continue): not forwarded
                return;
            }
            onResponseHead(head);
            return;
        }
        if (msg instanceof HttpContent content) {
            if (responseBody == null) {
                content.release();
                return;
            }
            if (content instanceof LastHttpContent) {
                // Free the connection before the end travels downstream: finishing the downstream response
                // may start the next (pipelined) request at once, and it should find this connection idle.
                onResponseEnd();
            }
            responseBody.onContent(content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onResponseHead(io.netty.handler.codec.http.HttpResponse head) {
        headersReceived = true;
        // "Connection: close" (or HTTP/1.0 without keep-alive): the upstream will close after this response,
        // so the connection must not go back to the pool where another request could race the close.
        upstreamCloses = !stream.http2() && !io.netty.handler.codec.http.HttpUtil.isKeepAlive(head);
        Body body;
        if (head instanceof FullHttpResponse full && !full.content().isReadable()
                && full.trailingHeaders().isEmpty()) {
            full.release();
            body = Body.empty();
            responseDone = true;
        } else {
            long length = contentLength(head);
            responseBody = new StreamBody(loop, this, length);
            body = responseBody;
        }
        ctx.responseCodeDetails("via_upstream");
        response.complete(NettyHttp.toResponse(head, body));
        if (head instanceof FullHttpResponse full && responseBody != null) {
            onResponseEnd(); // as for a last chunk: free the stream first, then let the end travel
            responseBody.onContent(full);
        } else if (responseDone) {
            onResponseEnd();
        }
    }

    private static long contentLength(io.netty.handler.codec.http.HttpResponse head) {
        String cl = head.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (cl == null) {
            return -1;
        }
        try {
            return Long.parseLong(cl.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void onResponseEnd() {
        responseDone = true;
        if (requestDone) {
            finish(true);
        } else if (stream != null && !stream.http2()) {
            // HTTP/1.1 upstream answered before taking the whole request: stop sending, do not reuse.
            if (requestWriter != null) {
                requestWriter.cancel();
            }
            finish(false);
        }
        // HTTP/2: the request may keep streaming (gRPC); finish when it ends.
    }

    /** The stream or connection closed. */
    void onClosed() {
        if (finished) {
            return;
        }
        if (!headersReceived && stream != null && stream.reused() && request.body() == Body.empty()
                && !staleRetried && !ctx.isCancelled()) {
            // A kept-alive connection the upstream closed while it sat idle (its keep-alive timeout raced our
            // reuse): nothing was answered and there is no body to replay, so send again on another
            // connection, once, as OkHttp does. Retries as policy come with the resilience work.
            staleRetried = true;
            stream = null;
            requestDone = false;
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
            pool.acquire(this);
            return;
        }
        if (!headersReceived || !responseDone) {
            abort(stream != null && stream.http2() ? ResponseFlag.UR : ResponseFlag.UC,
                    new IOException("upstream closed the stream"));
        } else {
            finish(false);
        }
    }

    private void onTimeout() {
        if (finished || responseDone) {
            return;
        }
        abort(ResponseFlag.UT, null);
    }

    /**
     * Ends the attempt abnormally: before the response head the downstream gets a local reply (status by
     * flag); after it, the response body fails, which resets the downstream stream.
     */
    void abort(ResponseFlag flag, Throwable cause) {
        if (finished) {
            return;
        }
        if (flag != null) {
            ctx.addResponseFlag(flag);
        }
        if (!headersReceived) {
            if (cause instanceof LocalReplyException lre) {
                fail(lre);
            } else if (cause instanceof io.meshproxy.core.http.BodyTooLargeException) {
                fail(new LocalReplyException(413, null, "request_payload_too_large"));
            } else if (flag == ResponseFlag.UT) {
                fail(new LocalReplyException(504, ResponseFlag.UT));
            } else if (flag == ResponseFlag.UPE) {
                fail(new LocalReplyException(502, ResponseFlag.UPE));
            } else if (flag != null) {
                fail(new LocalReplyException(503, flag));
            } else {
                fail(new LocalReplyException(503, ResponseFlag.UC));
            }
        } else if (responseBody != null) {
            responseBody.onError(cause != null ? cause : new IOException(flag == null ? "reset" : flag.details()));
        }
        if (requestWriter != null) {
            requestWriter.cancel();
        } else if (stream == null) {
            request.body().discard();
        }
        if (stream != null) {
            stream.reset();
        }
        finish(false);
    }

    private void fail(LocalReplyException e) {
        response.completeExceptionally(e);
    }

    private void finish(boolean reusable) {
        if (finished) {
            return;
        }
        finished = true;
        if (timer != null) {
            timer.cancel(false);
        }
        host.requestFinished();
        if (stream != null) {
            UpstreamStream s = stream;
            s.release(reusable && requestDone && responseDone && !upstreamCloses);
        }
    }

    // ---- StreamBody.Source: the response body's backpressure acts on the upstream stream ----

    @Override
    public void pause() {
        if (stream != null) {
            stream.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void resume() {
        if (stream != null) {
            Channel ch = stream.channel();
            ch.config().setAutoRead(true);
            ch.read();
        }
    }

    @Override
    public void cancelled() {
        // Nobody wants the rest of the response (the downstream went away): reset upstream.
        if (!finished) {
            if (stream != null) {
                stream.reset();
            }
            finish(false);
        }
    }
}
