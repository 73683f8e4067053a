package io.meshproxy.core.filter;

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

    /**
     * @param userFilters the application's filters, in the order they were registered
     * @param terminal the router, or an in-process application handler
     */
    public static HttpService build(List<? extends HttpFilter> userFilters, HttpService terminal) {
        List<HttpFilter> chain = new ArrayList<>(2 + userFilters.size());
        // 1. Request id first: every later filter, the access log, the upstream and the trace all see the
        //    same x-request-id, including for requests a later filter answers locally.
        chain.add(new RequestIdFilter());
        // 2. Forwarded headers next: user filters (authorization, logging) see the client address the way
        //    the upstream will, and nothing downstream of here can forget to add it.
        chain.add(new ForwardedHeadersFilter());
        // 3. The application's own filters, in registration order: they see a normalised request and may
        //    still answer locally before any upstream resource is used.
        chain.addAll(userFilters);
        // 4. Last, the terminal service: the router (route match, cluster, balancer, pool) or the in-process
        //    handler of an inbound listener. Nothing runs after it on the way in.
        return HttpFilter.chain(chain, terminal);
    }
}
