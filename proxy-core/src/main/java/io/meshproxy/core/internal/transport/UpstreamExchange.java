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

    /** Told of the attempt's milestones, on the event loop. */
    interface Listener {
        /** The whole request (head and body) went out. */
        void requestWritten(UpstreamExchange exchange);

        /** The attempt is over: response complete, failed or abandoned; its stream has been released. */
        void attemptFinished(UpstreamExchange exchange);
    }

    /**
     * The attempt failed on a reused HTTP/1.1 connection the upstream had closed while it sat idle (its
     * keep-alive timeout raced our reuse): nothing reached the application, so the call may send the request
     * again if it still has the body.
     */
    static final LocalReplyException STALE_CONNECTION = new LocalReplyException(503, ResponseFlag.UC,
            "upstream connection closed before the request was sent (stale keep-alive connection)");

    /** The upstream refused the HTTP/2 stream (RST_STREAM REFUSED_STREAM): it did not process the request. */
    static final LocalReplyException REFUSED_STREAM = new LocalReplyException(503, ResponseFlag.UR,
            "upstream connect error or disconnect/reset before headers. reset reason: remote refused stream reset");

    private final RequestContext ctx;
    private final HttpRequest request;
    private final Body body;
    private final Host host;
    private final EventLoop loop;
    private final long timeoutNanos;
    private final long idleTimeoutNanos;
    private final Listener listener;
    private final long startNanos = System.nanoTime();
    private ScheduledFuture<?> idleTimer;
    private long lastActivity = -1;
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

    /**
     * @param body the body to send (the request's own, or this attempt's replay of it)
     * @param timeout this attempt's timeout, from the end of the request to the end of the response; zero for none
     * @param idleTimeout the stream idle timeout (no bytes either way); zero for none
     */
    UpstreamExchange(RequestContext ctx, HttpRequest request, Body body, Host host, EventLoop loop, Duration timeout,
            Duration idleTimeout, Listener listener) {
        this.ctx = ctx;
        this.request = request;
        this.body = body;
        this.host = host;
        this.loop = loop;
        this.timeoutNanos = timeout == null ? 0 : timeout.toNanos();
        this.idleTimeoutNanos = idleTimeout == null ? 0 : idleTimeout.toNanos();
        this.listener = listener;
    }

    /** {@link System#nanoTime()} when this attempt started. */
    long startNanos() {
        return startNanos;
    }

    /** Whether the response head arrived (the attempt's answer is the call's answer from then on). */
    boolean headersReceived() {
        return headersReceived;
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
        if (idleTimeoutNanos > 0) {
            idleTimer = loop.schedule(this::onIdleCheck, idleTimeoutNanos, TimeUnit.NANOSECONDS);
        }
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
        Channel conn = ch.parent() != null ? ch.parent() : ch;
        // hasAttr first: attr() would create an empty attribute on every plaintext connection
        ctx.upstreamPeerPrincipal(conn.hasAttr(Tls.PEER_PRINCIPAL) ? conn.attr(Tls.PEER_PRINCIPAL).get() : null);
        boolean full = body == Body.empty();
        if (full) {
            ch.writeAndFlush(NettyHttp.toNettyRequest(request, true), ch.voidPromise());
            written(0);
        } else {
            requestWriter = new ChannelBodyWriter(ch, this);
            requestWriter.writeHead(NettyHttp.toNettyRequest(request, false));
            body.subscribe(requestWriter);
        }
    }

    void onAcquireFailed(Throwable cause, ResponseFlag flag) {
        if (finished) {
            return;
        }
        fail(new LocalReplyException(503, flag, flag.details() + (cause == null ? "" : ": " + cause.getMessage())));
        body.discard();
        finish(false);
    }

    // ---- request body outcome ----

    @Override
    public void written(long bytes) {
        if (finished) {
            return;
        }
        requestDone = true;
        listener.requestWritten(this);
        if (finished) {
            return;
        }
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
        } else if (staleConnection()) {
            abort(null, STALE_CONNECTION);
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

    /** The upstream reset the stream with REFUSED_STREAM. */
    void onStreamRefused() {
        if (!finished && !headersReceived) {
            abort(null, REFUSED_STREAM);
        }
    }

    /** The stream or connection closed. */
    void onClosed() {
        if (finished) {
            return;
        }
        if (staleConnection() && body == Body.empty()) {
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
        if (staleConnection()) {
            abort(null, STALE_CONNECTION); // a request with a body: the call decides whether to resend it
        } else if (!headersReceived || !responseDone) {
            abort(stream != null && stream.http2() ? ResponseFlag.UR : ResponseFlag.UC,
                    new IOException("upstream closed the stream"));
        } else {
            finish(false);
        }
    }

    /** Whether this attempt failed only because its reused connection had been closed by the upstream. */
    private boolean staleConnection() {
        return !headersReceived && stream != null && stream.reused() && !staleRetried && !ctx.isCancelled();
    }

    private void onTimeout() {
        if (finished || responseDone) {
            return;
        }
        abort(ResponseFlag.UT, null);
    }

    /** Ends a stream on which no byte moved either way for the stream idle timeout (Envoy's SI). */
    private void onIdleCheck() {
        idleTimer = null;
        if (finished) {
            return;
        }
        long activity = (headersReceived ? 1 : 0) + (responseBody == null ? 0 : responseBody.bytesReceived())
                + (requestWriter == null ? 0 : requestWriter.bytesWritten()) + (requestDone ? 1 : 0);
        if (activity != lastActivity) {
            lastActivity = activity;
            idleTimer = loop.schedule(this::onIdleCheck, idleTimeoutNanos, TimeUnit.NANOSECONDS);
            return;
        }
        abort(ResponseFlag.SI, null);
    }

    /**
     * Ends the attempt abnormally: before the response head the downstream gets a local reply (status by
     * flag); after it, the response body fails, which resets the downstream stream.
     */
    void abort(ResponseFlag flag, Throwable cause) {
        if (finished) {
            return;
        }
        // Before the response head the flag travels in the local reply (the call decides whether it is final:
        // a retried attempt leaves no flag); after it, the response is already the downstream's.
        if (flag != null && (headersReceived || flag == ResponseFlag.DC)) {
            ctx.addResponseFlag(flag);
        }
        if (!headersReceived) {
            if (cause instanceof LocalReplyException lre) {
                fail(lre);
            } else if (cause instanceof io.meshproxy.core.http.BodyTooLargeException) {
                fail(new LocalReplyException(413, null, "request_payload_too_large"));
            } else if (flag == ResponseFlag.UT) {
                fail(new LocalReplyException(504, ResponseFlag.UT));
            } else if (flag == ResponseFlag.SI) {
                fail(new LocalReplyException(408, ResponseFlag.SI, "stream_idle_timeout"));
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
            body.discard();
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
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
        host.requestFinished();
        if (stream != null) {
            UpstreamStream s = stream;
            s.release(reusable && requestDone && responseDone && !upstreamCloses);
        }
        listener.attemptFinished(this);
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
