package io.meshproxy.core.config;

/**
 * A forwarding target.
 *
 * @param cluster the cluster name
 * @param subset the name of a subset defined on that cluster, or null for all its endpoints
 * @param weight relative weight, at least 0; ignored when it is the only target
 */
public record WeightedCluster(String cluster, String subset, int weight) {}
