package io.meshproxy.core.internal.transport;

import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.http.LocalReplyException;
import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.core.resilience.ClusterBreaker;
import io.meshproxy.core.resilience.Outcome;
import io.meshproxy.core.resilience.ResponseClassifier;
import io.meshproxy.core.upstream.Cluster;
import io.meshproxy.core.upstream.ClusterResources;
import io.meshproxy.core.upstream.ClusterStats;
import io.meshproxy.core.upstream.Host;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One routed request to a cluster, across all its attempts (Envoy's router filter): picks an endpoint,
 * checks the cluster's request threshold and failure-rate breaker, sends the attempt, classifies its result
 * with the {@link ResponseClassifier} (which outlier detection and the breaker then learn from), and retries
 * what the route's {@link RetryPolicy} says is retriable — on another endpoint when there is one, after a
 * jittered exponential backoff, within the cluster's retry threshold and budget, replaying the request body
 * from a bounded buffer. Enforces the route timeout (across attempts) and a {@code grpc-timeout} deadline.
 *
 * <p>Response flags of attempts that were retried are not the request's: only the answer delivered
 * downstream sets them. Lives on the request's event loop.
 */
public final class UpstreamCall implements UpstreamExchange.Listener {
    static final String ATTEMPT_COUNT = "x-envoy-attempt-count";
    static final String GRPC_TIMEOUT = "grpc-timeout";
    /** Envoy tries this many picks to find an endpoint not tried yet before taking a tried one. */
    private static final int HOST_SELECTION_ATTEMPTS = 5;

    private final RequestContext ctx;
    private final HttpRequest request;
    private final Cluster cluster;
    private final String subset;
    private final RetryPolicy retry;
    private final EventLoop loop;
    private final ClusterResources resources;
    private final ClusterStats stats;
    private final ClusterBreaker breaker;
    private final long routeTimeoutNanos;
    private final Duration perTryTimeout;
    private final CompletableFuture<HttpResponse> result = new CompletableFuture<>();
    private final Host[] tried;
    private RequestReplay replay;
    /** The body is known to exceed the replay limit: it is sent once, never replayed. */
    private boolean bodyTooLargeToReplay;
    private long grpcDeadline;
    private UpstreamExchange current;
    private UpstreamExchange retryHolder;
    private boolean retryUnitPending;
    private int attempts;
    private ScheduledFuture<?> routeTimer;
    private ScheduledFuture<?> deadlineTimer;
    private ScheduledFuture<?> backoffTimer;
    private boolean timedOut;
    private boolean staleResent;
    /** Registered with the cluster while a replay buffer is held: ends the call if the cluster closes first. */
    private Runnable onClusterClose;
    private boolean delivered;
    private boolean cleanedUp;

    private UpstreamCall(RequestContext ctx, HttpRequest request, Cluster cluster, String subset, RetryPolicy retry,
            Duration routeTimeout) {
        this.ctx = ctx;
        this.request = request;
        this.cluster = cluster;
        this.subset = subset;
        this.retry = retry;
        this.loop = (EventLoop) ctx.eventLoop();
        this.resources = cluster.resources();
        this.stats = cluster.stats();
        this.breaker = cluster.breaker();
        this.routeTimeoutNanos = routeTimeout == null ? 0 : routeTimeout.toNanos();
        this.perTryTimeout = retry == null ? Duration.ZERO : retry.perTryTimeout();
        this.tried = new Host[retry == null ? 1 : retry.numRetries() + 1];
    }

    /**
     * Sends {@code request} to {@code subset} (or all) of {@code cluster}; call on the request's event loop.
     * Completes with the response head (body streaming) or fails with a {@link LocalReplyException}.
     *
     * @param retry the route's retry policy, or null
     * @param routeTimeout the route timeout, zero for none
     */
    public static CompletableFuture<HttpResponse> start(RequestContext ctx, HttpRequest request, Cluster cluster,
            String subset, RetryPolicy retry, Duration routeTimeout) {
        UpstreamCall call = new UpstreamCall(ctx, request, cluster, subset, retry, routeTimeout);
        call.begin();
        return call.result;
    }

    private void begin() {
        String grpcTimeout = request.headers().get(GRPC_TIMEOUT);
        if (grpcTimeout != null) {
            long nanos = parseGrpcTimeout(grpcTimeout);
            if (nanos > 0) {
                grpcDeadline = ctx.startNanos() + nanos;
                long left = Math.max(0, grpcDeadline - System.nanoTime());
                deadlineTimer = loop.schedule(this::onTimeout, left, TimeUnit.NANOSECONDS);
            }
        }
        Body body = request.body();
        if (retry != null && body != Body.empty()) {
            long length = body.contentLength();
            if (length > retry.bufferLimitBytes()) {
                bodyTooLargeToReplay = true;
            } else {
                replay = new RequestReplay(body, loop, retry.bufferLimitBytes());
                onClusterClose = () -> {
                    try {
                        loop.execute(this::onClusterClosed);
                    } catch (java.util.concurrent.RejectedExecutionException e) {
                        // the loop is gone already: nothing of this call can run any more
                    }
                };
                cluster.track(onClusterClose);
            }
        }
        ctx.onCancel(this::onCancelled);
        attempt();
    }

    private void attempt() {
        backoffTimer = null;
        if (delivered) {
            return;
        }
        Host host = pickHost();
        if (host == null) {
            fail(new LocalReplyException(503, ResponseFlag.UH));
            return;
        }
        if (!resources.tryAcquireRequest()) {
            stats.upstreamRqOverflow.increment();
            fail(new LocalReplyException(503, ResponseFlag.UO));
            return;
        }
        if (breaker != null && !breaker.tryAcquire()) {
            resources.releaseRequest();
            stats.upstreamRqBreakerOpen.increment();
            fail(new LocalReplyException(503, ResponseFlag.UCB));
            return;
        }
        if (attempts < tried.length) {
            tried[attempts] = host;
        }
        attempts++;
        stats.upstreamRqTotal.increment();
        ctx.upstreamHost(host.hostPort());
        if (retry != null) {
            request.headers().set(ATTEMPT_COUNT, Integer.toString(attempts));
        }
        if (grpcDeadline != 0) {
            long left = grpcDeadline - System.nanoTime();
            request.headers().set(GRPC_TIMEOUT, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)) + "m");
        }
        Body body;
        if (replay != null) {
            body = replay.nextAttempt();
        } else {
            body = attempts == 1 ? request.body() : Body.empty();
        }
        if (ctx.events() != io.meshproxy.core.filter.RequestEventListener.NONE) {
            ctx.events().onUpstreamRequest(ctx, request, cluster.name(), host.hostPort(), attempts);
        }
        UpstreamExchange ex = new UpstreamExchange(ctx, request, body, host, loop, perTryTimeout,
                ctx.streamIdleTimeout(), this);
        current = ex;
        if (retryUnitPending) {
            retryUnitPending = false;
            retryHolder = ex;
        }
        ex.response().whenComplete((r, t) -> onAttemptResult(ex, host, r, t));
        ex.start(cluster.pool(loop, host));
    }

    /** A healthy endpoint, preferring one no earlier attempt of this request used (Envoy's previous_hosts). */
    private Host pickHost() {
        Host h = cluster.pick(loop, subset);
        for (int i = 1; h != null && i < HOST_SELECTION_ATTEMPTS && triedBefore(h); i++) {
            h = cluster.pick(loop, subset);
        }
        return h;
    }

    private boolean triedBefore(Host h) {
        for (int i = 0; i < Math.min(attempts, tried.length); i++) {
            if (tried[i] == h) {
                return true;
            }
        }
        return false;
    }

    private void onAttemptResult(UpstreamExchange ex, Host host, HttpResponse response, Throwable failure) {
        if (delivered) {
            if (response != null) {
                response.body().discard();
            }
            return;
        }
        long duration = System.nanoTime() - ex.startNanos();
        LocalReplyException lre = null;
        Outcome outcome;
        int status = 0;
        int grpcStatus = ResponseClassifier.NO_GRPC_STATUS;
        if (failure != null) {
            lre = unwrap(failure);
            if (lre == UpstreamExchange.STALE_CONNECTION && !staleResent && replay != null && replay.replayable()) {
                // Not the upstream's failure and not a retry: the request never reached it. Send it again now.
                staleResent = true;
                if (breaker != null) {
                    breaker.release();
                }
                current = null;
                attempts--;
                attempt();
                return;
            }
            ResponseFlag flag = lre.flag();
            if (flag == null || flag == ResponseFlag.DC || flag == ResponseFlag.UO || ctx.isCancelled()) {
                // Nothing was learnt about the upstream: an overflow, the downstream leaving, a body error.
                if (breaker != null) {
                    breaker.release();
                }
                fail(lre);
                return;
            }
            if (flag == ResponseFlag.UT && !timedOut) {
                stats.upstreamRqPerTryTimeout.increment();
            }
            outcome = lre == UpstreamExchange.REFUSED_STREAM ? Outcome.REFUSED_STREAM
                    : flag == ResponseFlag.UPE ? ResponseClassifier.classify(502, grpcStatus)
                    : ResponseClassifier.classifyLocal(flag);
        } else {
            status = response.status();
            grpcStatus = grpcStatus(response);
            outcome = ResponseClassifier.classify(status, grpcStatus);
        }
        cluster.recordOutcome(host, outcome, duration);
        if (breaker != null) {
            breaker.record(outcome, duration);
        }
        if (shouldRetry(outcome, status, grpcStatus, lre)) {
            if (response != null) {
                response.body().discard();
            }
            if (ctx.events() != io.meshproxy.core.filter.RequestEventListener.NONE) {
                ctx.events().onRetry(ctx, attempts, outcome);
            }
            scheduleRetry();
            return;
        }
        if (attempts > 1 && !outcome.isFailure()) {
            stats.upstreamRqRetrySuccess.increment();
        }
        if (response != null) {
            delivered = true;
            if (replay != null) {
                replay.commit();
            }
            result.complete(response);
        } else {
            fail(lre);
        }
    }

    private boolean shouldRetry(Outcome outcome, int status, int grpcStatus, LocalReplyException lre) {
        // A closed cluster (the proxy is stopping): a retry would wait for a backoff timer on an event loop that
        // is shutting down and never fire, holding the request's replay buffer for good.
        if (retry == null || timedOut || cluster.closed() || (lre != null && lre.flag() == ResponseFlag.SI)
                || !ResponseClassifier.retriable(retry, outcome, status, grpcStatus)) {
            return false;
        }
        if (attempts > retry.numRetries()) {
            ctx.addResponseFlag(ResponseFlag.URX);
            stats.upstreamRqRetryLimitExceeded.increment();
            return false;
        }
        if (bodyTooLargeToReplay || (replay != null && !replay.replayable())) {
            stats.retryOrShadowAbandoned.increment();
            ctx.responseCodeDetails("retry_abandoned_body_too_large");
            return false;
        }
        if (!resources.tryAcquireRetry()) {
            stats.upstreamRqRetryOverflow.increment();
            return false;
        }
        return true;
    }

    /** Full jitter: the n-th retry waits a random time in [0, min(maxInterval, baseInterval * 2^(n-1))). */
    private void scheduleRetry() {
        stats.upstreamRqRetry.increment();
        retryUnitPending = true;
        current = null;
        int n = attempts; // retries so far + 1 = the number of this retry
        long base = retry.baseInterval().toNanos();
        long cap = retry.maxInterval().toNanos();
        long ceiling = n >= 62 || base > (cap >> Math.min(62, n - 1)) ? cap : base << (n - 1);
        long delay = ThreadLocalRandom.current().nextLong(Math.max(1, ceiling));
        backoffTimer = loop.schedule(this::attempt, delay, TimeUnit.NANOSECONDS);
    }

    private void fail(LocalReplyException e) {
        if (delivered) {
            return;
        }
        delivered = true;
        if (retryUnitPending) {
            retryUnitPending = false;
            resources.releaseRetry();
        }
        result.completeExceptionally(e);
        if (current == null || current.isFinished()) {
            cleanUp();
        }
    }

    @Override
    public void requestWritten(UpstreamExchange ex) {
        if (routeTimer == null && routeTimeoutNanos > 0 && !cleanedUp) {
            routeTimer = loop.schedule(this::onTimeout, routeTimeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void attemptFinished(UpstreamExchange ex) {
        resources.releaseRequest();
        if (ex == retryHolder) {
            retryHolder = null;
            resources.releaseRetry();
        }
        if (delivered && ex == current) {
            cleanUp();
        }
    }

    /** The route timeout or the gRPC deadline expired: 504 UT, no more retries. */
    private void onTimeout() {
        if (cleanedUp || timedOut) {
            return;
        }
        timedOut = true;
        stats.upstreamRqTimeout.increment();
        UpstreamExchange ex = current;
        if (ex != null && !ex.isFinished()) {
            ex.abort(ResponseFlag.UT, null); // before the head: fails it 504 UT; after: resets the body
        } else {
            if (backoffTimer != null) {
                backoffTimer.cancel(false);
                backoffTimer = null;
            }
            fail(new LocalReplyException(504, ResponseFlag.UT));
        }
    }

    private void onCancelled() {
        if (backoffTimer != null) {
            backoffTimer.cancel(false);
            backoffTimer = null;
            fail(new LocalReplyException(503, ResponseFlag.DC));
        }
        // An attempt in flight registered its own cancel callback and fails itself with DC.
    }

    /**
     * The proxy is stopping and closed this call's cluster: an attempt stalled forever (an upstream that never
     * reads, a downstream that never reads) would never report back, so it is ended here and the replay buffer
     * released.
     */
    private void onClusterClosed() {
        if (cleanedUp) {
            return;
        }
        UpstreamExchange ex = current;
        if (ex != null && !ex.isFinished()) {
            ex.abort(ResponseFlag.UC, new java.io.IOException("proxy shutting down"));
        } else {
            if (backoffTimer != null) {
                backoffTimer.cancel(false);
                backoffTimer = null;
            }
            fail(new LocalReplyException(503, ResponseFlag.UC, "proxy shutting down"));
            cleanUp();
        }
    }

    private void cleanUp() {
        if (cleanedUp) {
            return;
        }
        cleanedUp = true;
        if (onClusterClose != null) {
            cluster.untrack(onClusterClose);
        }
        if (routeTimer != null) {
            routeTimer.cancel(false);
        }
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
        }
        if (replay != null) {
            replay.close();
        } else if (attempts == 0) {
            request.body().discard(); // no attempt ever took the body
        }
    }

    private static LocalReplyException unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof LocalReplyException lre) {
            return lre;
        }
        if (t instanceof io.meshproxy.core.http.BodyTooLargeException) {
            return new LocalReplyException(413, null, "request_payload_too_large");
        }
        return new LocalReplyException(503, null, t.toString());
    }

    private static int grpcStatus(HttpResponse response) {
        String s = response.headers().get("grpc-status");
        if (s == null) {
            return ResponseClassifier.NO_GRPC_STATUS;
        }
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return ResponseClassifier.NO_GRPC_STATUS;
        }
    }

    /**
     * A {@code grpc-timeout} value (gRPC over HTTP/2: at most 8 digits and a unit H, M, S, m, u or n) in
     * nanoseconds; 0 when malformed (then ignored, as Envoy ignores it).
     */
    static long parseGrpcTimeout(String value) {
        String v = value.trim();
        if (v.length() < 2 || v.length() > 9) {
            return 0;
        }
        long amount = 0;
        for (int i = 0; i < v.length() - 1; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            amount = amount * 10 + (c - '0');
        }
        return switch (v.charAt(v.length() - 1)) {
            case 'H' -> TimeUnit.HOURS.toNanos(amount);
            case 'M' -> TimeUnit.MINUTES.toNanos(amount);
            case 'S' -> TimeUnit.SECONDS.toNanos(amount);
            case 'm' -> TimeUnit.MILLISECONDS.toNanos(amount);
            case 'u' -> TimeUnit.MICROSECONDS.toNanos(amount);
            case 'n' -> amount;
            default -> 0;
        };
    }
}
