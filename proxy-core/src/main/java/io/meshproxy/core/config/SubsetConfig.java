package io.meshproxy.core.config;

import java.util.HashMap;
import java.util.Map;

/**
 * A named subset of a cluster's endpoints: those whose labels include all of {@code labels}.
 *
 * <p>Validated on construction: {@code name} not blank; {@code labels} not empty, names non-blank, values
 * non-null.
 *
 * @param name unique within its cluster
 * @param labels the labels an endpoint must carry to belong to this subset
 */
public record SubsetConfig(String name, Map<String, String> labels) {
    public SubsetConfig {
        Checks.nonBlank("name", name);
        labels = Checks.labels("labels", Checks.required("labels", labels));
        if (labels.isEmpty()) {
            throw Checks.fail("labels", "must not be empty");
        }
    }

    /** True when {@code endpoint} carries every label of this subset. */
    public boolean selects(EndpointConfig endpoint) {
        return endpoint.labels().entrySet().containsAll(labels.entrySet());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link SubsetConfig}; a name and at least one label are required. */
    public static final class Builder {
        private String name;
        private final Map<String, String> labels = new HashMap<>();

        private Builder() {}

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Replaces all labels. */
        public Builder labels(Map<String, String> labels) {
            this.labels.clear();
            this.labels.putAll(labels);
            return this;
        }

        /** Adds one label. */
        public Builder label(String name, String value) {
            labels.put(name, value);
            return this;
        }

        public SubsetConfig build() {
            return new SubsetConfig(name, labels);
        }
    }
}
