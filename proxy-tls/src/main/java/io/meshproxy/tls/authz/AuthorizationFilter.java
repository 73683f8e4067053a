package io.meshproxy.tls.authz;

import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy's RBAC HTTP filter as Istio configures it from {@link AuthorizationPolicy AuthorizationPolicies}: each
 * request is checked by the {@link AuthorizationEngine}; a denied one gets {@code 403} with the body
 * {@code RBAC: access denied}, its body is discarded and nothing goes upstream. Runs after the
 * {@link JwtAuthenticationFilter} so {@code requestPrincipals} and {@code request.auth.*} see the verified token.
 * Never blocks; matching runs no regex.
 */
public final class AuthorizationFilter implements HttpFilter {
    /** Envoy's body for a request RBAC denied. */
    public static final String DENIED_BODY = "RBAC: access denied";

    private final AuthorizationEngine engine;
    /** Envoy's {@code rbac.allowed}. */
    public final LongAdder allowed;
    /** Envoy's {@code rbac.denied}. */
    public final LongAdder denied;

    public AuthorizationFilter(AuthorizationEngine engine) {
        this(engine, new LongAdder(), new LongAdder());
    }

    /**
     * Counting into {@code allowed} and {@code denied}, which may outlive this filter: a proxy that swaps in new
     * policies keeps its {@code rbac.allowed} and {@code rbac.denied} across the swap.
     */
    public AuthorizationFilter(AuthorizationEngine engine, LongAdder allowed, LongAdder denied) {
        this.engine = java.util.Objects.requireNonNull(engine, "engine");
        this.allowed = java.util.Objects.requireNonNull(allowed, "allowed");
        this.denied = java.util.Objects.requireNonNull(denied, "denied");
    }

    public AuthorizationFilter(List<AuthorizationPolicy> policies) {
        this(AuthorizationEngine.of(policies));
    }

    public AuthorizationEngine engine() {
        return engine;
    }

    @Override
    public CompletionStage<HttpResponse> filter(RequestContext ctx, HttpRequest request, HttpService next) {
        AuthorizationEngine.Decision d = engine.check(CheckRequest.of(ctx, request));
        if (d.allowed()) {
            allowed.increment();
            return next.serve(ctx, request);
        }
        denied.increment();
        request.body().discard();
        ctx.responseCodeDetails(d.details());
        return CompletableFuture.completedFuture(HttpResponse.of(403, "text/plain", DENIED_BODY));
    }
}
