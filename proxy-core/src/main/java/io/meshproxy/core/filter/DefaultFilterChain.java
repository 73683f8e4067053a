package io.meshproxy.core.filter;

import io.meshproxy.core.config.LocalRateLimit;
import io.meshproxy.core.resilience.LocalRateLimitFilter;
import java.util.ArrayList;
import java.util.List;

/**
 * The default filter chain of every listener and of the in-process client, in order. This file is the one
 * place to read it. Before the chain, inside the codec adapter, a request has already had its hop-by-hop
 * header fields removed (a filter never sees {@code connection}, {@code keep-alive}, {@code transfer-encoding},
 * {@code upgrade}; see {@code internal.transport.NettyHttp}), its {@code Host} turned into
 * {@code :authority}, and the listener's body-size and header-size limits applied.
 */
public final class DefaultFilterChain {
    private DefaultFilterChain() {}

    /** The chain without a listener rate limit. */
    public static HttpService build(List<? extends HttpFilter> userFilters, HttpService terminal) {
        return build(userFilters, null, terminal);
    }

    /**
     * @param userFilters the application's filters, in the order they were registered
     * @param listenerRateLimit the listener's local rate limit, or null; the chain built here owns a new bucket
     * @param terminal the router, or an in-process application handler
     */
    public static HttpService build(List<? extends HttpFilter> userFilters, LocalRateLimit listenerRateLimit,
            HttpService terminal) {
        List<HttpFilter> chain = new ArrayList<>(3 + userFilters.size());
        // 1. Request id first: every later filter, the access log, the upstream and the trace all see the
        //    same x-request-id, including for requests a later filter answers locally.
        chain.add(new RequestIdFilter());
        // 2. The listener's local rate limit (when it has one): shedding load is worth most before anything
        //    else costs (header rewriting, the application's filters, route matching, an upstream), but it
        //    stands after the request id so that a 429 RL can be traced like any other reply. Route-level
        //    rate limits and fault injection run later, in the router, once the route is known.
        if (listenerRateLimit != null) {
            chain.add(new LocalRateLimitFilter(listenerRateLimit));
        }
        // 3. Forwarded headers next: user filters (authorization, logging) see the client address the way
        //    the upstream will, and nothing downstream of here can forget to add it.
        chain.add(new ForwardedHeadersFilter());
        // 4. The application's own filters, in registration order: they see a normalised request and may
        //    still answer locally before any upstream resource is used.
        chain.addAll(userFilters);
        // 5. Last, the terminal service: the router or the in-process handler of an inbound listener. The
        //    router matches the route, then runs that route's own filters (its local rate limit, then its
        //    fault injection: a request over the limit is not worth delaying; see CompiledRoute#filter),
        //    then forwards (cluster, balancer, pool). Nothing runs after it on the way in.
        return HttpFilter.chain(chain, terminal);
    }
}
