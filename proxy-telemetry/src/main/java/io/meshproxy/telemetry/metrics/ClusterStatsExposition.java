package io.meshproxy.telemetry.metrics;

import io.meshproxy.core.upstream.Cluster;
import io.meshproxy.core.upstream.ClusterResources;
import io.meshproxy.core.upstream.Host;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Envoy's cluster statistics as Istio's {@code /stats/prometheus} shows them: {@code cluster.<name>.<stat>}
 * becomes {@code envoy_cluster_<stat>{cluster_name="<name>"}} (dots to underscores, counters keep Envoy's names,
 * without a {@code _total} added), and as Envoy's {@code /stats} prints them ({@code cluster.<name>.<stat>: value}).
 *
 * <p>Read at each scrape from the clusters the supplier returns right then, so clusters added or removed by a
 * configuration update appear and disappear with it and nothing is registered or unregistered in between:
 * the counters ({@code ClusterStats} {@code LongAdder}s), the gauges of the cluster's live resources
 * ({@code upstream_cx_active}, {@code upstream_rq_pending_active}, {@code upstream_rq_active},
 * {@code upstream_rq_retry_active}), membership ({@code membership_total}, {@code membership_healthy}), and the
 * state of meshproxy's failure-rate breaker ({@code meshproxy_cluster_circuit_breaker_state}: 0 closed, 1 open,
 * 2 half-open; absent for a cluster without one; Envoy has no such breaker, hence meshproxy's own prefix).
 */
final class ClusterStatsExposition {
    /** Envoy stats of {@code ClusterStats} that are gauges; all others are counters. */
    private static final java.util.Set<String> GAUGES = java.util.Set.of("outlier_detection.ejections_active");
    static final String BREAKER_STATE = "meshproxy_cluster_circuit_breaker_state";

    private final StatsMatcher matcher;
    private volatile Supplier<Map<String, Cluster>> clusters;

    ClusterStatsExposition(StatsMatcher matcher) {
        this.matcher = matcher;
    }

    void bind(Supplier<Map<String, Cluster>> clusters) {
        this.clusters = clusters;
    }

    /** One value of one cluster. */
    private record Sample(String cluster, long value) {}

    /** Family (Prometheus name) to its type and samples, read now. */
    private Map<String, Family> read() {
        Supplier<Map<String, Cluster>> s = clusters;
        Map<String, Family> families = new TreeMap<>();
        if (s == null) {
            return families;
        }
        Map<String, Cluster> now = s.get();
        if (now == null) {
            return families;
        }
        for (Cluster c : now.values()) {
            String name = c.name();
            for (Map.Entry<String, Long> e : c.stats().snapshot().entrySet()) {
                add(families, e.getKey(), GAUGES.contains(e.getKey()) ? "gauge" : "counter", name, e.getValue());
            }
            ClusterResources r = c.resources();
            add(families, "upstream_cx_active", "gauge", name, r.connections());
            add(families, "upstream_rq_pending_active", "gauge", name, r.pendingRequests());
            add(families, "upstream_rq_active", "gauge", name, r.activeRequests());
            add(families, "upstream_rq_retry_active", "gauge", name, r.activeRetries());
            List<Host> hosts = c.hosts();
            int healthy = 0;
            for (Host h : hosts) {
                if (h.healthy()) {
                    healthy++;
                }
            }
            add(families, "membership_total", "gauge", name, hosts.size());
            add(families, "membership_healthy", "gauge", name, healthy);
            int state = switch (c.breakerState()) {
                case "CLOSED" -> 0;
                case "OPEN" -> 1;
                case "HALF_OPEN" -> 2;
                default -> -1;
            };
            if (state >= 0 && matcher.keeps(BREAKER_STATE)) {
                families.computeIfAbsent(BREAKER_STATE, k -> new Family("circuit_breaker_state", "gauge"))
                        .samples.add(new Sample(name, state));
            }
        }
        return families;
    }

    private void add(Map<String, Family> families, String envoyStat, String type, String cluster, long value) {
        String prometheusName = "envoy_cluster_" + envoyStat.replace('.', '_');
        if (!matcher.keeps(prometheusName)) {
            return;
        }
        families.computeIfAbsent(prometheusName, k -> new Family(envoyStat, type)).samples.add(new Sample(cluster, value));
    }

    private static final class Family {
        final String envoyStat;
        final String type;
        final List<Sample> samples = new ArrayList<>();

        Family(String envoyStat, String type) {
            this.envoyStat = envoyStat;
            this.type = type;
        }
    }

    /** Appends the families in Prometheus text format 0.0.4. */
    void writePrometheus(StringBuilder out) {
        for (Map.Entry<String, Family> e : read().entrySet()) {
            out.append("# TYPE ").append(e.getKey()).append(' ').append(e.getValue().type).append('\n');
            for (Sample s : e.getValue().samples) {
                out.append(e.getKey()).append("{cluster_name=\"");
                escape(s.cluster, out);
                out.append("\"} ").append(s.value).append('\n');
            }
        }
    }

    /** Adds Envoy's {@code /stats} lines: {@code cluster.<name>.<stat>: value}. */
    void writePlain(List<String> lines) {
        for (Family f : read().values()) {
            for (Sample s : f.samples) {
                lines.add("cluster." + s.cluster + "." + f.envoyStat + ": " + s.value);
            }
        }
    }

    /** Escapes a label value for the text format: backslash, double quote, line feed. */
    static void escape(String v, StringBuilder out) {
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            switch (ch) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(ch);
            }
        }
    }
}
