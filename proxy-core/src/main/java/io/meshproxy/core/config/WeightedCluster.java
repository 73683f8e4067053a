package io.meshproxy.core.config;

/**
 * A forwarding target.
 *
 * <p>Validated on construction: {@code cluster} not blank, {@code subset} null or not blank, {@code weight}
 * at least 0. That the cluster and subset exist is checked for the whole {@link ProxyConfig}.
 *
 * @param cluster the cluster name
 * @param subset the name of a subset defined on that cluster, or null for all its endpoints
 * @param weight relative weight, at least 0; ignored when it is the only target
 */
public record WeightedCluster(String cluster, String subset, int weight) {
    public WeightedCluster {
        Checks.nonBlank("cluster", cluster);
        Checks.nullOrNonBlank("subset", subset);
        Checks.atLeast("weight", weight, 0);
    }

    /** All endpoints of {@code cluster}, weight 1. */
    public static WeightedCluster of(String cluster) {
        return new WeightedCluster(cluster, null, 1);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link WeightedCluster}; no subset and weight 1 unless set. */
    public static final class Builder {
        private String cluster;
        private String subset;
        private int weight = 1;

        private Builder() {}

        public Builder cluster(String cluster) {
            this.cluster = cluster;
            return this;
        }

        public Builder subset(String subset) {
            this.subset = subset;
            return this;
        }

        public Builder weight(int weight) {
            this.weight = weight;
            return this;
        }

        public WeightedCluster build() {
            return new WeightedCluster(cluster, subset, weight);
        }
    }
}
