package io.meshproxy.core.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A route table: virtual hosts chosen by the request's authority.
 *
 * <p>Validated on construction: {@code name} not blank; null virtual hosts become empty (every request then
 * gets 404 NR); virtual host names are unique, and no domain is served by two virtual hosts (ignoring case),
 * as Envoy requires.
 *
 * @param name for logs and metrics
 * @param virtualHosts the virtual hosts
 */
public record RouteConfiguration(String name, List<VirtualHost> virtualHosts) {
    public RouteConfiguration {
        Checks.nonBlank("name", name);
        virtualHosts = Checks.list("virtualHosts", virtualHosts);
        Map<String, Integer> names = new HashMap<>();
        Map<String, Integer> domains = new HashMap<>();
        for (int i = 0; i < virtualHosts.size(); i++) {
            VirtualHost vh = virtualHosts.get(i);
            Integer first = names.putIfAbsent(vh.name(), i);
            if (first != null) {
                throw Checks.fail("virtualHosts[" + i + "].name",
                        "duplicate virtual host name '" + vh.name() + "', also virtualHosts[" + first + "]");
            }
            for (int d = 0; d < vh.domains().size(); d++) {
                String domain = vh.domains().get(d);
                Integer owner = domains.putIfAbsent(domain.toLowerCase(Locale.ROOT), i);
                if (owner != null && owner != i) {
                    throw Checks.fail("virtualHosts[" + i + "].domains[" + d + "]", "domain '" + domain
                            + "' is already served by virtualHosts[" + owner + "] '"
                            + virtualHosts.get(owner).name() + "'");
                }
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link RouteConfiguration}; a name is required. */
    public static final class Builder {
        private String name;
        private final List<VirtualHost> virtualHosts = new ArrayList<>();

        private Builder() {}

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Replaces all virtual hosts. */
        public Builder virtualHosts(List<VirtualHost> virtualHosts) {
            this.virtualHosts.clear();
            this.virtualHosts.addAll(virtualHosts);
            return this;
        }

        /** Adds a virtual host. */
        public Builder virtualHost(VirtualHost virtualHost) {
            virtualHosts.add(virtualHost);
            return this;
        }

        public RouteConfiguration build() {
            return new RouteConfiguration(name, virtualHosts);
        }
    }
}
