package io.meshproxy.core.resilience;

import io.meshproxy.core.config.FaultPolicy;
import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.http.LocalReplyException;
import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.core.internal.transport.LocalReplies;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * Fault injection on a route, as Envoy's fault filter does it for Istio's {@code http[].fault}. For each
 * request, independently:
 * <ol>
 *   <li>with probability {@code delay.percentage / 100} the request waits {@code delay.fixedDelay} before it
 *       goes on (a timer on the request's event loop, nothing blocks), flagged {@code DI};</li>
 *   <li>then, with probability {@code abort.percentage / 100}, it is answered locally and never reaches the
 *       upstream, flagged {@code FI}, its body discarded: with {@code abort.httpStatus} and body
 *       {@code fault filter abort}; or, for {@code abort.grpcStatus}, as a gRPC trailers-only response: HTTP
 *       200, {@code content-type: application/grpc}, {@code grpc-status} and {@code grpc-message: fault filter
 *       abort}, no body.</li>
 * </ol>
 * A request whose downstream goes away while it is delayed ({@link RequestContext#onCancel}) has its timer
 * cancelled and its body discarded; it never goes on. A request neither delayed nor aborted passes through
 * without allocation.
 */
public final class FaultFilter implements HttpFilter {
    /** What a request delayed when its downstream went away completes with (nobody will read it). */
    private static final LocalReplyException DOWNSTREAM_GONE = new LocalReplyException(503, ResponseFlag.DC);

    private final FaultPolicy policy;
    private final long delayNanos;
    private final double delayPercent;
    private final double abortPercent;
    private final RandomGenerator random;
    /** Stackless and immutable: one instance serves every HTTP abort of this route. */
    private final LocalReplyException httpAbort;

    /** With {@link ThreadLocalRandom}. */
    public FaultFilter(FaultPolicy policy) {
        this(policy, null);
    }

    /**
     * @param random where the decisions come from, called on the request's event loop (so a generator
     *     shared by several loops must be thread-safe); null for {@link ThreadLocalRandom}
     */
    public FaultFilter(FaultPolicy policy, RandomGenerator random) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.delayNanos = policy.delay() == null ? 0 : policy.delay().fixedDelay().toNanos();
        this.delayPercent = policy.delay() == null ? 0 : policy.delay().percentage();
        this.abortPercent = policy.abort() == null ? 0 : policy.abort().percentage();
        this.random = random;
        this.httpAbort = policy.abort() == null || policy.abort().httpStatus() < 0
                ? null : new LocalReplyException(policy.abort().httpStatus(), ResponseFlag.FI);
    }

    public FaultPolicy policy() {
        return policy;
    }

    @Override
    public CompletionStage<HttpResponse> filter(RequestContext ctx, HttpRequest request, HttpService next) {
        if (hit(delayPercent)) {
            ctx.addResponseFlag(ResponseFlag.DI);
            CompletableFuture<HttpResponse> result = new CompletableFuture<>();
            new Delayed(ctx, request, next, result).start();
            return result;
        }
        return afterDelay(ctx, request, next);
    }

    /** The abort decision, and the request going on when it is not aborted. */
    private CompletionStage<HttpResponse> afterDelay(RequestContext ctx, HttpRequest request, HttpService next) {
        if (!hit(abortPercent)) {
            return next.serve(ctx, request);
        }
        request.body().discard();
        ctx.addResponseFlag(ResponseFlag.FI);
        if (httpAbort != null) {
            return CompletableFuture.failedFuture(httpAbort);
        }
        FaultPolicy.Abort abort = policy.abort();
        ctx.responseCodeDetails(ResponseFlag.FI.details()); // as the HTTP abort's local reply records it
        return CompletableFuture.completedFuture(LocalReplies.grpc(abort.grpcStatus(), ResponseFlag.FI.details()));
    }

    /** True with probability {@code percent / 100}: never at 0, always at 100. */
    private boolean hit(double percent) {
        if (percent <= 0) {
            return false;
        }
        RandomGenerator r = random != null ? random : ThreadLocalRandom.current();
        return r.nextDouble() * 100 < percent;
    }

    /** One delayed request: its timer, and what happens when it fires or the downstream goes away first. */
    private final class Delayed implements Runnable {
        private final RequestContext ctx;
        private final HttpRequest request;
        private final HttpService next;
        private final CompletableFuture<HttpResponse> result;
        private ScheduledFuture<?> timer;
        private boolean over;

        Delayed(RequestContext ctx, HttpRequest request, HttpService next, CompletableFuture<HttpResponse> result) {
            this.ctx = ctx;
            this.request = request;
            this.next = next;
            this.result = result;
        }

        void start() {
            timer = ctx.eventLoop().schedule(this, delayNanos, TimeUnit.NANOSECONDS);
            ctx.onCancel(this::cancel); // runs at once if the downstream is already gone
        }

        /** The delay is over: go on (or abort), on the event loop. */
        @Override
        public void run() {
            if (over) {
                return;
            }
            over = true;
            CompletionStage<HttpResponse> stage;
            try {
                stage = afterDelay(ctx, request, next);
            } catch (Throwable t) {
                stage = CompletableFuture.failedFuture(t);
            }
            stage.whenComplete((response, err) -> {
                if (err != null) {
                    result.completeExceptionally(err);
                } else {
                    result.complete(response);
                }
            });
        }

        /** The downstream went away during the delay: nothing goes on, the body is released. */
        private void cancel() {
            if (over) {
                return; // the delay had ended: whoever holds the request now handles the cancel
            }
            over = true;
            timer.cancel(false);
            request.body().discard();
            result.completeExceptionally(DOWNSTREAM_GONE);
        }
    }
}
