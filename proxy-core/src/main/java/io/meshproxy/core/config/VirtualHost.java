package io.meshproxy.core.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A set of routes for a set of domains. A domain is exact ({@code reviews.default.svc}), a suffix wildcard
 * ({@code *.example.com}), a prefix wildcard ({@code reviews.*}) or {@code *}; matching prefers exact, then
 * the longest suffix wildcard, then the longest prefix wildcard, then {@code *}, as Envoy does. A domain
 * may carry a port ({@code reviews:9080}); a request's port is ignored when no domain names it.
 *
 * <p>Validated on construction: {@code name} not blank; at least one domain, each of the four forms above
 * (a {@code *} anywhere else is an error), without whitespace, not repeated (ignoring case). Routes may be
 * empty, as in Envoy: the virtual host then claims its domains and answers every request 404 NR.
 *
 * @param name unique within its route table, for logs and metrics
 * @param domains the authorities this virtual host serves
 * @param routes tried in order; the first whose match accepts the request wins; none matching is 404 NR
 */
public record VirtualHost(String name, List<String> domains, List<Route> routes) {
    public VirtualHost {
        Checks.nonBlank("name", name);
        domains = Checks.list("domains", Checks.required("domains", domains));
        if (domains.isEmpty()) {
            throw Checks.fail("domains", "must name at least one domain");
        }
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < domains.size(); i++) {
            String field = "domains[" + i + "]";
            checkDomain(field, domains.get(i));
            Integer first = seen.putIfAbsent(domains.get(i).toLowerCase(Locale.ROOT), i);
            if (first != null) {
                throw Checks.fail(field, "duplicate domain '" + domains.get(i) + "', also domains[" + first + "]");
            }
        }
        routes = Checks.list("routes", routes);
    }

    private static void checkDomain(String field, String domain) {
        Checks.nonBlank(field, domain);
        for (int i = 0; i < domain.length(); i++) {
            if (Character.isWhitespace(domain.charAt(i))) {
                throw Checks.fail(field, "must not contain whitespace, was '" + domain + "'");
            }
        }
        int star = domain.indexOf('*');
        if (star < 0 || domain.equals("*")) {
            return;
        }
        // As Envoy: one '*', first or last ("*.example.com", "*-svc.local", "reviews.*", "foo-*").
        boolean suffixWildcard = star == 0 && domain.length() > 1;
        boolean prefixWildcard = star == domain.length() - 1 && domain.length() > 1;
        if (domain.indexOf('*', star + 1) >= 0 || !(suffixWildcard || prefixWildcard)) {
            throw Checks.fail(field, "a wildcard must be the first or last character ('*.suffix', 'prefix.*')"
                    + " or the whole domain ('*'), was '" + domain + "'");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link VirtualHost}; a name and a domain are required. */
    public static final class Builder {
        private String name;
        private final List<String> domains = new ArrayList<>();
        private final List<Route> routes = new ArrayList<>();

        private Builder() {}

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Replaces all domains. */
        public Builder domains(List<String> domains) {
            this.domains.clear();
            this.domains.addAll(domains);
            return this;
        }

        /** Adds a domain. */
        public Builder domain(String domain) {
            domains.add(domain);
            return this;
        }

        /** Replaces all routes. */
        public Builder routes(List<Route> routes) {
            this.routes.clear();
            this.routes.addAll(routes);
            return this;
        }

        /** Appends a route (routes are tried in the order added). */
        public Builder route(Route route) {
            routes.add(route);
            return this;
        }

        public VirtualHost build() {
            return new VirtualHost(name, domains, routes);
        }
    }
}
