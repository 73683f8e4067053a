package io.meshproxy.core.config;

import java.util.List;

/**
 * A set of routes for a set of domains. A domain is exact ({@code reviews.default.svc}), a suffix wildcard
 * ({@code *.example.com}), a prefix wildcard ({@code reviews.*}) or {@code *}; matching prefers exact, then
 * the longest suffix wildcard, then the longest prefix wildcard, then {@code *}, as Envoy does. A domain
 * may carry a port ({@code reviews:9080}); a request's port is ignored when no domain names it.
 */
public record VirtualHost(String name, List<String> domains, List<Route> routes) {}
