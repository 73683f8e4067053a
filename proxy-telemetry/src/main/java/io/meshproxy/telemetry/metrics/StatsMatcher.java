package io.meshproxy.telemetry.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Istio's {@code proxyStatsMatcher} as a Micrometer {@link MeterFilter}: a metric is kept when its Prometheus
 * name (as {@code /stats/prometheus} shows it, e.g. {@code istio_requests_total},
 * {@code envoy_cluster_upstream_rq_retry}) matches an inclusion pattern or there are none, and matches no
 * exclusion pattern. Patterns match the whole name, as Envoy's regex matchers do.
 *
 * <p>As in Istio, an inclusion list only selects among the proxy's other stats: Istio's standard metrics
 * ({@code istio_*}) are always included (Istio's bootstrap always keeps them), so a matcher copied from an Istio
 * mesh config ({@code .*outlier_detection.*}, {@code .*_cx_.*}, ...) does not silently empty a dashboard; an
 * exclusion pattern drops any metric, {@code istio_*} included. Excluding a histogram's {@code _bucket} series
 * (e.g. {@code .*_bucket}) keeps its {@code _count} and {@code _sum} and drops only the buckets.
 *
 * <p>Only meshproxy's own meters ({@code istio.*}, {@code envoy.*}) are judged: on an application's own
 * {@code MeterRegistry} its meters pass untouched, and {@code meshproxy_metrics_series_dropped_total} (the
 * safety net of the series cap) is never filtered.
 */
final class StatsMatcher implements MeterFilter {
    private final List<Pattern> inclusions;
    private final List<Pattern> exclusions;

    StatsMatcher(List<String> inclusionRegexps, List<String> exclusionRegexps) {
        this.inclusions = inclusionRegexps.stream().map(Pattern::compile).toList();
        this.exclusions = exclusionRegexps.stream().map(Pattern::compile).toList();
    }

    /** Whether the metric of Prometheus name {@code name} is kept. */
    boolean keeps(String name) {
        for (Pattern p : exclusions) {
            if (p.matcher(name).matches()) {
                return false;
            }
        }
        if (inclusions.isEmpty() || name.startsWith("istio_")) {
            return true;
        }
        for (Pattern p : inclusions) {
            if (p.matcher(name).matches()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public MeterFilterReply accept(Meter.Id id) {
        if (!ours(id)) {
            return MeterFilterReply.NEUTRAL;
        }
        return keeps(prometheusName(id)) ? MeterFilterReply.NEUTRAL : MeterFilterReply.DENY;
    }

    @Override
    public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (ours(id) && id.getType() == Meter.Type.DISTRIBUTION_SUMMARY && !keeps(prometheusName(id) + "_bucket")) {
            return DistributionStatisticConfig.builder().serviceLevelObjectives(new double[0])
                    .percentilesHistogram(false).build().merge(config);
        }
        return config;
    }

    private static boolean ours(Meter.Id id) {
        String n = id.getName();
        return n.startsWith("istio.") || n.startsWith("envoy.");
    }

    /** The name Micrometer's Prometheus registry gives a meter of ours (we use no base units). */
    static String prometheusName(Meter.Id id) {
        String n = id.getName().replace('.', '_');
        if (id.getType() == Meter.Type.COUNTER && !n.endsWith("_total")) {
            n += "_total";
        }
        return n;
    }
}
