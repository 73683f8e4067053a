package io.meshproxy.core.config;

import java.util.Map;

/** An upstream endpoint: an IP address (or host name) and port, a weight (1..128 by default 1), labels. */
public record EndpointConfig(String address, int port, int weight, Map<String, String> labels) {}
