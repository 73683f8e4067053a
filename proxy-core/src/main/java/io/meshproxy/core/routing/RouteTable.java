package io.meshproxy.core.routing;

import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link RouteConfiguration} compiled for the data path: the router asks it which route takes a request.
 *
 * <p>A request first selects a virtual host by its {@code :authority}, as Envoy does: domains are
 * case-insensitive; an exact domain wins, then the longest suffix wildcard ({@code *.example.com}, which
 * takes {@code foo.bar.example.com} too; the wildcard stands for at least one character), then the longest
 * prefix wildcard ({@code reviews.*}), then {@code *}. The authority is tried as sent, so a domain written
 * with a port ({@code reviews:9080}) matches it; when only {@code *} would, and it carries a port, the host
 * without the port is tried before falling back to {@code *}. A request without an authority matches only
 * {@code *}. Within the virtual host, the first route whose conditions all hold takes the request.
 *
 * <p>Compiling does the work once — every regular expression compiled, domains indexed in hash maps — so
 * {@link #match} neither scans every domain nor parses a query string unless a route asks about it. A table
 * is immutable and safe to share between event loops; a new configuration compiles into a new table that
 * is swapped in whole.
 */
public final class RouteTable {

    private final String name;
    private final DomainIndex domains;

    private RouteTable(String name, DomainIndex domains) {
        this.name = name;
        this.domains = domains;
    }

    /** Compiles {@code config}, which is assumed valid (regular expressions compile, weights are not negative). */
    public static RouteTable compile(RouteConfiguration config) {
        List<VirtualHost> virtualHosts = config.virtualHosts() == null ? List.of() : config.virtualHosts();
        List<CompiledVirtualHost> compiled = new ArrayList<>(virtualHosts.size());
        for (VirtualHost virtualHost : virtualHosts) {
            compiled.add(new CompiledVirtualHost(virtualHost));
        }
        return new RouteTable(config.name(), DomainIndex.build(compiled));
    }

    /** The name of the route configuration this table was compiled from. */
    public String name() {
        return name;
    }

    /**
     * The first matching route of the virtual host selected by {@code request}'s authority; null when no
     * virtual host or no route of it matches (Envoy answers 404 with response flag NR). Does not change the
     * request.
     */
    public CompiledRoute match(HttpRequest request) {
        CompiledVirtualHost virtualHost = domains.select(request.authority());
        return virtualHost == null ? null : virtualHost.match(request);
    }

    @Override
    public String toString() {
        return "RouteTable[" + name + "]";
    }
}
