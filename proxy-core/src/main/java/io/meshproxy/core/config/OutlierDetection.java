package io.meshproxy.core.config;

import java.time.Duration;

/**
 * Passive health checking (Istio's {@code outlierDetection}, Envoy's outlier detection): an endpoint that
 * fails this many times in a row is ejected, receives no traffic until its ejection ends, and is ejected for
 * longer each time it is ejected again. What counts as an error is decided by the response classifier (see
 * {@code io.meshproxy.core.resilience.ResponseClassifier}).
 *
 * <p>Validated on construction: counts at least 0 (0 disables that detector); percentages in 0..100;
 * {@code interval} and {@code baseEjectionTime} positive.
 *
 * @param consecutive5xxErrors ejects after this many 5xx in a row (with {@code splitExternalLocalOriginErrors}
 *     off, connect failures, resets and timeouts count too); default 5; 0 disables
 * @param consecutiveGatewayErrors ejects after this many 502, 503 or 504 in a row (and, unsplit, local-origin
 *     failures); default 0 (off), as Istio
 * @param consecutiveLocalOriginFailures with {@code splitExternalLocalOriginErrors}, ejects after this many
 *     connect failures, resets or timeouts in a row; default 5
 * @param splitExternalLocalOriginErrors whether local-origin failures are counted apart from the upstream's
 *     own 5xx answers (default false)
 * @param interval how often ejections are reviewed: an endpoint returns at the first review after its
 *     ejection time (default 10 s)
 * @param baseEjectionTime ejection time for the first ejection; the n-th consecutive ejection lasts n times
 *     this, up to {@code maxEjectionTime} (default 30 s)
 * @param maxEjectionTime the longest ejection (default 300 s, as Envoy)
 * @param maxEjectionPercent at most this share of the cluster's endpoints is ejected at once; at least one
 *     endpoint may always be ejected (default 10, as Istio)
 * @param minHealthPercent when fewer than this share of endpoints is healthy the balancer ignores health and
 *     spreads over all endpoints (Envoy's panic mode); 0 disables panic (default 0, as Istio)
 */
public record OutlierDetection(int consecutive5xxErrors, int consecutiveGatewayErrors,
        int consecutiveLocalOriginFailures, boolean splitExternalLocalOriginErrors, Duration interval,
        Duration baseEjectionTime, Duration maxEjectionTime, int maxEjectionPercent, int minHealthPercent) {

    public static final OutlierDetection DEFAULT = builder().build();

    public OutlierDetection {
        Checks.atLeast("consecutive5xxErrors", consecutive5xxErrors, 0);
        Checks.atLeast("consecutiveGatewayErrors", consecutiveGatewayErrors, 0);
        Checks.atLeast("consecutiveLocalOriginFailures", consecutiveLocalOriginFailures, 0);
        interval = positive("interval", interval, Duration.ofSeconds(10));
        baseEjectionTime = positive("baseEjectionTime", baseEjectionTime, Duration.ofSeconds(30));
        maxEjectionTime = positive("maxEjectionTime", maxEjectionTime, Duration.ofSeconds(300));
        Checks.inRange("maxEjectionPercent", maxEjectionPercent, 0, 100);
        Checks.inRange("minHealthPercent", minHealthPercent, 0, 100);
    }

    private static Duration positive(String field, Duration value, Duration defaultValue) {
        Duration d = Checks.duration(field, value, defaultValue);
        if (d.isZero()) {
            throw Checks.fail(field, "must be more than 0");
        }
        return d;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link OutlierDetection} starting from the defaults above. */
    public static final class Builder {
        private int consecutive5xxErrors = 5;
        private int consecutiveGatewayErrors;
        private int consecutiveLocalOriginFailures = 5;
        private boolean splitExternalLocalOriginErrors;
        private Duration interval = Duration.ofSeconds(10);
        private Duration baseEjectionTime = Duration.ofSeconds(30);
        private Duration maxEjectionTime = Duration.ofSeconds(300);
        private int maxEjectionPercent = 10;
        private int minHealthPercent;

        private Builder() {}

        public Builder consecutive5xxErrors(int v) {
            consecutive5xxErrors = v;
            return this;
        }

        public Builder consecutiveGatewayErrors(int v) {
            consecutiveGatewayErrors = v;
            return this;
        }

        public Builder consecutiveLocalOriginFailures(int v) {
            consecutiveLocalOriginFailures = v;
            return this;
        }

        public Builder splitExternalLocalOriginErrors(boolean v) {
            splitExternalLocalOriginErrors = v;
            return this;
        }

        public Builder interval(Duration v) {
            interval = v;
            return this;
        }

        public Builder baseEjectionTime(Duration v) {
            baseEjectionTime = v;
            return this;
        }

        public Builder maxEjectionTime(Duration v) {
            maxEjectionTime = v;
            return this;
        }

        public Builder maxEjectionPercent(int v) {
            maxEjectionPercent = v;
            return this;
        }

        public Builder minHealthPercent(int v) {
            minHealthPercent = v;
            return this;
        }

        public OutlierDetection build() {
            return new OutlierDetection(consecutive5xxErrors, consecutiveGatewayErrors, consecutiveLocalOriginFailures,
                    splitExternalLocalOriginErrors, interval, baseEjectionTime, maxEjectionTime, maxEjectionPercent,
                    minHealthPercent);
        }
    }
}
