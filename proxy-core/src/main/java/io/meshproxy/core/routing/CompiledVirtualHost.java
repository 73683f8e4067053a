package io.meshproxy.core.routing;

import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.http.HttpRequest;
import java.util.List;

/** A virtual host with its routes compiled, in configuration order. Immutable. */
final class CompiledVirtualHost {

    private final String name;
    private final List<String> domains;
    private final CompiledRoute[] routes;

    CompiledVirtualHost(VirtualHost config) {
        this.name = config.name();
        this.domains = config.domains() == null ? List.of() : config.domains();
        List<Route> configured = config.routes() == null ? List.of() : config.routes();
        this.routes = new CompiledRoute[configured.size()];
        for (int i = 0; i < routes.length; i++) {
            routes[i] = new CompiledRoute(configured.get(i), name);
        }
    }

    String name() {
        return name;
    }

    List<String> domains() {
        return domains;
    }

    /** The first route that takes {@code request}, or null. */
    CompiledRoute match(HttpRequest request) {
        String path = request.path();
        int pathEnd = path.indexOf('?');
        if (pathEnd < 0) {
            pathEnd = path.length();
        }
        for (CompiledRoute route : routes) {
            if (route.matches(request, path, pathEnd)) {
                return route;
            }
        }
        return null;
    }
}
