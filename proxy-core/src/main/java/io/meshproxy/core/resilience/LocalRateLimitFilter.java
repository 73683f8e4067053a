package io.meshproxy.core.resilience;

import io.meshproxy.core.config.LocalRateLimit;
import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.http.LocalReplyException;
import io.meshproxy.core.http.ResponseFlag;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * Envoy's local rate limit filter ({@code envoy.filters.http.local_ratelimit}): every request takes a token
 * from one {@link TokenBucket}; a request that finds the bucket empty is answered {@code 429} with body
 * {@code local_rate_limited} and response flag {@code RL}, its body is discarded, and it goes no further (in
 * particular, never to an upstream). One instance is one bucket: a listener's filter chain holds one for the
 * listener's {@link io.meshproxy.core.config.ListenerConfig#localRateLimit() localRateLimit}, a route one for
 * its {@link io.meshproxy.core.config.RouteAction#rateLimit() rateLimit}; either is shared by all event loops.
 */
public final class LocalRateLimitFilter implements HttpFilter {
    /** Stackless and immutable, so one instance serves every rejected request. */
    private static final LocalReplyException LIMITED = new LocalReplyException(429, ResponseFlag.RL);

    private final TokenBucket bucket;

    public LocalRateLimitFilter(LocalRateLimit config) {
        this(new TokenBucket(config));
    }

    /** @param nanoClock the bucket's clock (tests drive it instead of waiting) */
    public LocalRateLimitFilter(LocalRateLimit config, LongSupplier nanoClock) {
        this(new TokenBucket(config, nanoClock));
    }

    public LocalRateLimitFilter(TokenBucket bucket) {
        this.bucket = Objects.requireNonNull(bucket, "bucket");
    }

    public TokenBucket bucket() {
        return bucket;
    }

    @Override
    public CompletionStage<HttpResponse> filter(RequestContext ctx, HttpRequest request, HttpService next) {
        if (bucket.tryTake()) {
            return next.serve(ctx, request);
        }
        return reject(ctx, request);
    }

    /**
     * This rate limit in front of {@code inner}: one filter that admits a request, then runs {@code inner}
     * with the same {@code next}, without a per-request object to join the two.
     */
    public HttpFilter before(HttpFilter inner) {
        Objects.requireNonNull(inner, "inner");
        return (ctx, request, next) -> bucket.tryTake() ? inner.filter(ctx, request, next) : reject(ctx, request);
    }

    private static CompletionStage<HttpResponse> reject(RequestContext ctx, HttpRequest request) {
        request.body().discard();
        ctx.addResponseFlag(ResponseFlag.RL);
        return CompletableFuture.failedFuture(LIMITED);
    }

    @Override
    public String toString() {
        return "LocalRateLimitFilter[" + bucket + "]";
    }
}
