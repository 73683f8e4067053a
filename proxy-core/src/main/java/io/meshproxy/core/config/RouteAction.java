package io.meshproxy.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Forward upstream: to one cluster (one entry) or split by weight across several, each optionally
 * restricted to a subset.
 *
 * <p>Validated on construction: at least one target; with several targets the weights add up to more than
 * 0; at most one of {@code prefixRewrite} and {@code regexRewrite}; a set {@code hostRewrite} is not blank;
 * a null timeout becomes zero (disabled), a negative one is an error. That a prefix rewrite comes with a
 * PREFIX path match is checked by {@link Route}; that the clusters exist, by {@link ProxyConfig}.
 *
 * @param clusters one or more targets; weights are relative (they need not add up to 100)
 * @param prefixRewrite replaces the matched path prefix (only with a PREFIX path match); or null
 * @param regexRewrite rewrites the path with a regular expression; or null
 * @param hostRewrite replaces the authority sent upstream; or null
 * @param timeout the route timeout, from the end of the request to the end of the response, across all
 *     attempts; beyond it 504 UT; zero disables (default, as Istio). A shorter {@code grpc-timeout} request
 *     header wins.
 * @param retryPolicy when and how to retry; null for no retries
 * @param fault delays and aborts to inject; null for none
 * @param rateLimit a token bucket for this route; null for none
 */
public record RouteAction(List<WeightedCluster> clusters, String prefixRewrite, RegexRewrite regexRewrite,
        String hostRewrite, Duration timeout, RetryPolicy retryPolicy, FaultPolicy fault, LocalRateLimit rateLimit)
        implements Action {

    /** Without retries, faults or rate limit. */
    public RouteAction(List<WeightedCluster> clusters, String prefixRewrite, RegexRewrite regexRewrite,
            String hostRewrite, Duration timeout) {
        this(clusters, prefixRewrite, regexRewrite, hostRewrite, timeout, null, null, null);
    }

    /**
     * {@code pattern} is applied to the path (without the query) and every match replaced with
     * {@code substitution}. Validated on construction: the pattern compiles, the substitution is non-null.
     *
     * @param pattern a {@link java.util.regex.Pattern} regular expression
     * @param substitution the replacement ({@code $1} refers to a group)
     */
    public record RegexRewrite(String pattern, String substitution) {
        public RegexRewrite {
            Checks.regex("pattern", pattern);
            Checks.required("substitution", substitution);
        }
    }

    public RouteAction {
        clusters = Checks.list("clusters", Checks.required("clusters", clusters));
        if (clusters.isEmpty()) {
            throw Checks.fail("clusters", "must name at least one cluster");
        }
        if (clusters.size() > 1) {
            long total = 0;
            for (WeightedCluster c : clusters) {
                total += c.weight();
            }
            if (total <= 0) {
                throw Checks.fail("clusters", "weights must add up to more than 0");
            }
        }
        if (prefixRewrite != null && regexRewrite != null) {
            throw Checks.fail("prefixRewrite, regexRewrite", "at most one may be set");
        }
        Checks.nullOrNonBlank("hostRewrite", hostRewrite);
        timeout = Checks.duration("timeout", timeout, Duration.ZERO);
        if (retryPolicy != null && retryPolicy.numRetries() == 0) {
            retryPolicy = null;
        }
    }

    /** All of {@code cluster}, no rewrites, no timeout. */
    public static RouteAction to(String cluster) {
        return new RouteAction(List.of(WeightedCluster.of(cluster)), null, null, null, Duration.ZERO);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link RouteAction}; at least one cluster is required, the timeout defaults to zero. */
    public static final class Builder {
        private final List<WeightedCluster> clusters = new ArrayList<>();
        private String prefixRewrite;
        private RegexRewrite regexRewrite;
        private String hostRewrite;
        private Duration timeout = Duration.ZERO;
        private RetryPolicy retryPolicy;
        private FaultPolicy fault;
        private LocalRateLimit rateLimit;

        private Builder() {}

        /** Replaces all targets. */
        public Builder clusters(List<WeightedCluster> clusters) {
            this.clusters.clear();
            this.clusters.addAll(clusters);
            return this;
        }

        /** Adds all of {@code cluster} as a target of weight 1. */
        public Builder cluster(String cluster) {
            return weightedCluster(cluster, null, 1);
        }

        /** Adds a target: {@code subset} (or null for all) of {@code cluster} with relative {@code weight}. */
        public Builder weightedCluster(String cluster, String subset, int weight) {
            String field = "clusters[" + clusters.size() + "]";
            clusters.add(Checks.prefixed(field, () -> new WeightedCluster(cluster, subset, weight)));
            return this;
        }

        /** Adds a target. */
        public Builder weightedCluster(WeightedCluster target) {
            clusters.add(target);
            return this;
        }

        public Builder prefixRewrite(String prefixRewrite) {
            this.prefixRewrite = prefixRewrite;
            return this;
        }

        public Builder regexRewrite(RegexRewrite regexRewrite) {
            this.regexRewrite = regexRewrite;
            return this;
        }

        /** Rewrites the path: every match of {@code pattern} becomes {@code substitution}. */
        public Builder regexRewrite(String pattern, String substitution) {
            this.regexRewrite = Checks.prefixed("regexRewrite", () -> new RegexRewrite(pattern, substitution));
            return this;
        }

        public Builder hostRewrite(String hostRewrite) {
            this.hostRewrite = hostRewrite;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = retryPolicy;
            return this;
        }

        public Builder fault(FaultPolicy fault) {
            this.fault = fault;
            return this;
        }

        public Builder rateLimit(LocalRateLimit rateLimit) {
            this.rateLimit = rateLimit;
            return this;
        }

        public RouteAction build() {
            return new RouteAction(clusters, prefixRewrite, regexRewrite, hostRewrite, timeout, retryPolicy, fault,
                    rateLimit);
        }
    }
}
