package io.meshproxy.core.config;

import java.util.Map;

/** A named subset of a cluster's endpoints: those whose labels include all of {@code labels}. */
public record SubsetConfig(String name, Map<String, String> labels) {}
