package io.meshproxy.core.config;

import java.util.List;

/**
 * One complete, immutable configuration of a proxy: its listeners, clusters and admin server. Validated as
 * a whole (every cluster a route names exists, every subset is defined, listener ports are distinct)
 * before it serves traffic; every problem found is reported at once in one {@link ConfigException}.
 * {@link ConfigJson#toJson(ProxyConfig)} prints it.
 *
 * @param listeners the listeners (null means none)
 * @param clusters the clusters (null means none)
 * @param admin the admin server, or null for none
 */
public record ProxyConfig(List<ListenerConfig> listeners, List<ClusterConfig> clusters, AdminConfig admin) {
    public ProxyConfig {
        listeners = Checks.list("listeners", listeners);
        clusters = Checks.list("clusters", clusters);
        ConfigValidation.validate(listeners, clusters, admin);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The cluster called {@code name}, or null. */
    public ClusterConfig cluster(String name) {
        for (ClusterConfig c : clusters) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return null;
    }

    /** Builds a {@link ProxyConfig}; no listeners, no clusters and no admin server unless added. */
    public static final class Builder {
        private final java.util.ArrayList<ListenerConfig> listeners = new java.util.ArrayList<>();
        private final java.util.ArrayList<ClusterConfig> clusters = new java.util.ArrayList<>();
        private AdminConfig admin;

        public Builder listener(ListenerConfig l) {
            listeners.add(java.util.Objects.requireNonNull(l, "listener"));
            return this;
        }

        public Builder cluster(ClusterConfig c) {
            clusters.add(java.util.Objects.requireNonNull(c, "cluster"));
            return this;
        }

        /** The admin server; none when not set. */
        public Builder admin(AdminConfig admin) {
            this.admin = admin;
            return this;
        }

        public ProxyConfig build() {
            return new ProxyConfig(listeners, clusters, admin);
        }
    }
}
