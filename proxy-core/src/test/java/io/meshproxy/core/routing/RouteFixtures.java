package io.meshproxy.core.routing;

import io.meshproxy.core.config.Action;
import io.meshproxy.core.config.HeaderMatcher;
import io.meshproxy.core.config.HeaderMutation;
import io.meshproxy.core.config.PathMatch;
import io.meshproxy.core.config.QueryParameterMatcher;
import io.meshproxy.core.config.RedirectAction;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.config.WeightedCluster;
import java.time.Duration;
import java.util.List;

/** Config records built with their canonical constructors, every component given, for the routing tests. */
final class RouteFixtures {

    private RouteFixtures() {}

    static PathMatch prefix(String value) {
        return new PathMatch(PathMatch.Kind.PREFIX, value, false);
    }

    static PathMatch exact(String value) {
        return new PathMatch(PathMatch.Kind.EXACT, value, false);
    }

    static PathMatch regex(String value) {
        return new PathMatch(PathMatch.Kind.REGEX, value, false);
    }

    static RouteMatch matchPath(PathMatch path) {
        return new RouteMatch(path, List.of(), List.of());
    }

    static RouteMatch matchHeaders(HeaderMatcher... headers) {
        return new RouteMatch(prefix("/"), List.of(headers), List.of());
    }

    static RouteMatch matchQuery(QueryParameterMatcher... parameters) {
        return new RouteMatch(prefix("/"), List.of(), List.of(parameters));
    }

    static RouteAction forward(String cluster) {
        return new RouteAction(List.of(new WeightedCluster(cluster, null, 1)), null, null, null, Duration.ZERO);
    }

    static RouteAction forward(WeightedCluster... clusters) {
        return new RouteAction(List.of(clusters), null, null, null, Duration.ZERO);
    }

    static RedirectAction redirect(String scheme, String host, Integer port, String pathRedirect, String prefixRewrite,
            boolean stripQuery) {
        return new RedirectAction(scheme, host, port, pathRedirect, prefixRewrite, 302, stripQuery);
    }

    static Route route(String name, RouteMatch match, Action action) {
        return new Route(name, match, action, HeaderMutation.NONE, HeaderMutation.NONE);
    }

    static Route route(String name, PathMatch path) {
        return route(name, matchPath(path), forward(name));
    }

    static VirtualHost virtualHost(String name, List<String> domains, Route... routes) {
        return new VirtualHost(name, domains, List.of(routes));
    }

    /** A virtual host with one catch-all route named after the host. */
    static VirtualHost virtualHost(String name, String... domains) {
        return virtualHost(name, List.of(domains), route(name, prefix("/")));
    }

    static RouteTable table(VirtualHost... virtualHosts) {
        return RouteTable.compile(new RouteConfiguration("test", List.of(virtualHosts)));
    }

    /** A table with one {@code *} virtual host holding {@code routes}. */
    static RouteTable table(Route... routes) {
        return table(virtualHost("all", List.of("*"), routes));
    }
}
