package io.meshproxy.core.routing;

import io.meshproxy.core.config.Action;
import io.meshproxy.core.config.DirectResponseAction;
import io.meshproxy.core.config.RedirectAction;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.WeightedCluster;
import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.http.LocalReplyException;
import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.core.upstream.Cluster;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The last service of a listener's filter chain: matches the route, then forwards to a cluster (picking the
 * target by weight, a host by the cluster's balancer) through the route's own rate limit and fault filter
 * when it has them, redirects, or answers directly.
 */
public final class Router implements HttpService {
    private final RouteTable routes;
    private final Map<String, Cluster> clusters;

    public Router(RouteTable routes, Map<String, Cluster> clusters) {
        this.routes = routes;
        this.clusters = clusters;
    }

    @Override
    public CompletionStage<HttpResponse> serve(RequestContext ctx, HttpRequest request) {
        CompiledRoute route = routes.match(request);
        if (route == null) {
            request.body().discard();
            ctx.addResponseFlag(ResponseFlag.NR);
            return CompletableFuture.failedFuture(new LocalReplyException(404, ResponseFlag.NR, "route_not_found"));
        }
        ctx.routeName(route.name());
        Action action = route.action();
        if (action instanceof RouteAction) {
            HttpFilter routeFilter = route.filter();
            if (routeFilter == null) {
                return forward(ctx, request, route);
            }
            return routeFilter.filter(ctx, request, (c, r) -> forward(c, r, route));
        }
        request.body().discard();
        HttpResponse response;
        if (action instanceof DirectResponseAction direct) {
            Headers h = new Headers();
            Body body = Body.empty();
            if (direct.body() != null && !direct.body().isEmpty()) {
                h.set("content-type", "text/plain");
                body = Body.of(direct.body());
            }
            response = new HttpResponse(direct.status(), h, body);
            ctx.responseCodeDetails("direct_response");
        } else {
            RedirectAction redirect = (RedirectAction) action;
            Headers h = new Headers();
            h.set("location", route.redirectLocation(request));
            response = new HttpResponse(redirect.responseCode(), h, Body.empty());
            ctx.responseCodeDetails("redirect");
        }
        route.applyResponseTransforms(response);
        return CompletableFuture.completedFuture(response);
    }

    private CompletionStage<HttpResponse> forward(RequestContext ctx, HttpRequest request, CompiledRoute route) {
        WeightedCluster target = route.pickCluster();
        Cluster cluster = clusters.get(target.cluster());
        if (cluster == null) { // validation makes this unreachable; answer as Envoy does for an unknown cluster
            request.body().discard();
            return CompletableFuture.failedFuture(new LocalReplyException(503, null, "cluster_not_found"));
        }
        ctx.upstreamCluster(cluster.name());
        route.applyRequestTransforms(request);
        RouteAction action = (RouteAction) route.action();
        CompletableFuture<HttpResponse> response = cluster.forward(ctx, request, target.subset(),
                action.retryPolicy(), route.timeout());
        if (route.config().responseHeaders().isEmpty()) {
            return response;
        }
        return response.thenApply(r -> {
            route.applyResponseTransforms(r);
            return r;
        });
    }
}
