package io.meshproxy.core;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.internal.transport.ListenerRuntime;
import io.meshproxy.core.internal.transport.LocalReplies;
import io.meshproxy.core.internal.transport.ObservedBody;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The in-process mesh client: a request enters the same filter chain, router, cluster, balancer and pool
 * as a request arriving at the listener it is bound to, with no socket between the application and the
 * mesh. The response arrives once its head is in; its body streams (with backpressure) on the mesh's event
 * loop. Local replies (404 NR, 503 UH, 504 UT...) come back as responses, exactly as a listener sends them.
 *
 * <p>A request body supplied by the application should signal on the subscriber's thread or hop itself;
 * {@link io.meshproxy.core.http.Body#of(byte[])} does.
 */
public final class MeshClient {
    private final java.util.function.Supplier<ListenerRuntime> listener;
    private final EventLoopGroup group;

    /** @param listener the listener entered, looked up per request so configuration updates apply */
    MeshClient(java.util.function.Supplier<ListenerRuntime> listener, EventLoopGroup group) {
        this.listener = listener;
        this.group = group;
    }

    /** Sends the request; completes with the response (body still streaming). Never completes exceptionally
     *  for a routing or upstream failure: those are local-reply responses. */
    public CompletableFuture<HttpResponse> execute(HttpRequest request) {
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        EventLoop loop = group.next();
        loop.execute(() -> run(loop, request, result));
        return result;
    }

    /**
     * Sends the request and waits for the response head. Must not be called on a mesh event loop.
     *
     * @throws IOException if interrupted
     */
    public HttpResponse send(HttpRequest request) throws IOException {
        for (io.netty.util.concurrent.EventExecutor e : group) {
            if (e.inEventLoop()) {
                throw new IllegalStateException("blocking send() on a mesh event loop; use execute()");
            }
        }
        try {
            return execute(request).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for " + request);
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        }
    }

    private void run(EventLoop loop, HttpRequest request, CompletableFuture<HttpResponse> result) {
        ListenerRuntime listener = this.listener.get();
        if (listener == null) {
            request.body().discard();
            result.complete(io.meshproxy.core.internal.transport.LocalReplies.of(503, "listener removed"));
            return;
        }
        RequestContext ctx = new RequestContext(listener.name(), "in-process", null, null, false, loop,
                System.nanoTime());
        ctx.streamIdleTimeout(listener.config().streamIdleTimeout());
        ctx.events(listener.events());
        if (ctx.events() != io.meshproxy.core.filter.RequestEventListener.NONE) {
            ctx.events().onRequestStart(ctx, request);
        }
        String method = request.method();
        String authority = request.authority();
        String path = request.path();
        boolean grpc = LocalReplies.isGrpc(request.headers().get("content-type"));
        java.util.concurrent.CompletionStage<HttpResponse> stage;
        try {
            stage = listener.service().serve(ctx, request);
        } catch (Throwable t) {
            stage = CompletableFuture.failedFuture(t);
        }
        stage.whenComplete((response, err) -> {
            HttpResponse r = err == null ? response : LocalReplies.toResponse(ctx, err, grpc);
            int status = r.status();
            if (ctx.events() != io.meshproxy.core.filter.RequestEventListener.NONE) {
                ctx.events().onResponseHeaders(ctx, r);
            }
            if (!listener.logging()) {
                result.complete(r);
                return;
            }
            r.body(new ObservedBody(r.body(), (bytes, ok) -> {
                if (!ok && !ctx.isCancelled()) {
                    ctx.cancel();
                }
                listener.end(ctx, new RequestLog(listener.name(), "in-process", method, authority, path,
                        ctx.requestId(), ctx.routeName(), ctx.upstreamCluster(), ctx.upstreamHost(), status,
                        ctx.responseFlags(), ctx.responseCodeDetails(), 0, bytes, System.nanoTime() - ctx.startNanos()));
            }));
            result.complete(r);
        });
    }
}
