package io.meshproxy.core.config;

import java.util.HashMap;
import java.util.Map;

/**
 * An upstream endpoint: an IP address (or host name) and port, a weight, labels.
 *
 * <p>Validated on construction: {@code address} not blank, {@code port} in 1..65535, {@code weight} in
 * 1..1 000 000; null labels become empty, label names are non-blank and values non-null.
 *
 * @param address IP address or host name
 * @param port 1..65535
 * @param weight relative load-balancing weight, 1..1 000 000 (1 from {@link #of} and the builder)
 * @param labels labels matched by cluster subsets (for example {@code version=v1})
 */
public record EndpointConfig(String address, int port, int weight, Map<String, String> labels) {
    /** The largest endpoint weight. */
    public static final int MAX_WEIGHT = 1_000_000;

    public EndpointConfig {
        Checks.nonBlank("address", address);
        Checks.inRange("port", port, 1, 65535);
        Checks.inRange("weight", weight, 1, MAX_WEIGHT);
        labels = Checks.labels("labels", labels);
    }

    /** An endpoint of weight 1 and no labels. */
    public static EndpointConfig of(String address, int port) {
        return new EndpointConfig(address, port, 1, Map.of());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link EndpointConfig}; weight 1 and no labels unless set. */
    public static final class Builder {
        private String address;
        private int port;
        private int weight = 1;
        private final Map<String, String> labels = new HashMap<>();

        private Builder() {}

        public Builder address(String address) {
            this.address = address;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder weight(int weight) {
            this.weight = weight;
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

        public EndpointConfig build() {
            return new EndpointConfig(address, port, weight, labels);
        }
    }
}
