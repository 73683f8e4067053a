package io.meshproxy.core.config;

import java.util.List;

/** Whole-configuration checks (cross references). Placeholder until the validating builders land. */
final class ConfigValidation {
    private ConfigValidation() {}

    static void validate(List<ListenerConfig> listeners, List<ClusterConfig> clusters, AdminConfig admin) {}
}
