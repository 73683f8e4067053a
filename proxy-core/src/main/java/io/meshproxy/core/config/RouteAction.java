package io.meshproxy.core.config;

import java.time.Duration;
import java.util.List;

/**
 * Forward upstream: to one cluster (one entry) or split by weight across several, each optionally
 * restricted to a subset.
 *
 * @param clusters one or more targets; weights are relative (they need not add up to 100)
 * @param prefixRewrite replaces the matched path prefix (only with a PREFIX path match); or null
 * @param regexRewrite rewrites the path with a regular expression; or null
 * @param hostRewrite replaces the authority sent upstream; or null
 * @param timeout the route timeout, from the end of the request to the end of the response; beyond it 504 UT;
 *     zero disables (default, as Istio)
 */
public record RouteAction(List<WeightedCluster> clusters, String prefixRewrite, RegexRewrite regexRewrite,
        String hostRewrite, Duration timeout) implements Action {

    /** {@code pattern} is applied to the path (without the query) and every match replaced with {@code substitution}. */
    public record RegexRewrite(String pattern, String substitution) {}
}
