package io.meshproxy.telemetry;

import java.util.List;
import java.util.Map;

/**
 * What proxy-telemetry records and where it sends it (the Proxy bootstrap's {@code spec.telemetry} and
 * {@code spec.workload}; see docs/configuration.md). Immutable; null parts take their defaults.
 *
 * @param workload this proxy's workload (labels of Istio's metrics)
 * @param reporters per listener name, Istio's {@code reporter} label: {@code source} for an OUTBOUND listener
 *     (the client side), {@code destination} for an INBOUND one; a listener not named here is {@code source}
 * @param metrics Istio's standard metrics
 * @param tracing sampled tracing
 * @param accessLog sampled access logs
 */
public record TelemetryConfig(WorkloadInfo workload, Map<String, String> reporters, Metrics metrics,
        Tracing tracing, AccessLog accessLog) {

    public static final TelemetryConfig DEFAULT = new TelemetryConfig(null, null, null, null, null);

    public TelemetryConfig {
        workload = workload == null ? WorkloadInfo.UNKNOWN_WORKLOAD : workload;
        reporters = reporters == null ? Map.of() : Map.copyOf(reporters);
        metrics = metrics == null ? Metrics.DEFAULT : metrics;
        tracing = tracing == null ? Tracing.DISABLED : tracing;
        accessLog = accessLog == null ? AccessLog.DISABLED : accessLog;
    }

    /** Istio's {@code reporter} label for requests of {@code listenerName}. */
    public String reporter(String listenerName) {
        return reporters.getOrDefault(listenerName, "source");
    }

    /**
     * Istio's standard metrics. Like Istio's {@code proxyStatsMatcher}, a metric name is kept when it matches
     * an inclusion pattern (or there are none) and no exclusion pattern; a hard cap bounds the number of
     * series, and series refused by it are counted ({@code meshproxy_metrics_series_dropped_total}).
     *
     * @param enabled whether metrics are recorded at all (default true)
     * @param inclusionRegexps metric names to keep (empty: all)
     * @param exclusionRegexps metric names to drop
     * @param maxSeries the most series kept, all metrics together (default 10,000)
     */
    public record Metrics(boolean enabled, List<String> inclusionRegexps, List<String> exclusionRegexps,
            int maxSeries) {
        public static final Metrics DEFAULT = new Metrics(true, List.of(), List.of(), 10_000);

        public Metrics {
            inclusionRegexps = inclusionRegexps == null ? List.of() : List.copyOf(inclusionRegexps);
            exclusionRegexps = exclusionRegexps == null ? List.of() : List.copyOf(exclusionRegexps);
            if (maxSeries < 1) {
                throw new IllegalArgumentException("maxSeries: must be at least 1, was " + maxSeries);
            }
        }
    }

    /**
     * Sampled tracing: W3C {@code traceparent}/{@code tracestate} and B3 (single and multi header) propagation,
     * one sampling decision per trace, a span per proxy hop, exported to Zipkin (v2 JSON over HTTP) batched and
     * asynchronously behind a bounded queue.
     *
     * @param samplingPercent share of new traces sampled, 0..100 (default 1, as Istio); an incoming sampled
     *     flag is honoured, and {@code x-envoy-force-trace} forces sampling
     * @param zipkinEndpoint e.g. {@code http://127.0.0.1:9411/api/v2/spans}; null: tracing off
     * @param maxQueuedSpans spans waiting for export at most; beyond it spans are dropped and counted
     * @param serviceName the local service name of spans; null: the workload's app, else its name
     */
    public record Tracing(double samplingPercent, String zipkinEndpoint, int maxQueuedSpans, String serviceName) {
        public static final Tracing DISABLED = new Tracing(1.0, null, 10_000, null);

        public Tracing {
            if (!(samplingPercent >= 0 && samplingPercent <= 100)) {
                throw new IllegalArgumentException("samplingPercent: must be in 0..100, was " + samplingPercent);
            }
            if (maxQueuedSpans < 1) {
                throw new IllegalArgumentException("maxQueuedSpans: must be at least 1, was " + maxQueuedSpans);
            }
        }

        public boolean enabled() {
            return zipkinEndpoint != null;
        }
    }

    /**
     * Access logs: one JSON line per sampled request, written by one background thread from a bounded queue
     * (a full queue drops the line and counts it, never blocks an event loop).
     *
     * @param path a file to append to, or {@code /dev/stdout}; null: access logs off
     * @param samplingPercent share of requests logged, 0..100 (default 100)
     * @param alwaysLogErrors log every request that ended with a 5xx, a response flag or no response, sampled
     *     or not (default true)
     * @param queueSize lines waiting to be written at most (default 8,192)
     */
    public record AccessLog(String path, double samplingPercent, boolean alwaysLogErrors, int queueSize) {
        public static final AccessLog DISABLED = new AccessLog(null, 100, true, 8192);

        public AccessLog {
            if (!(samplingPercent >= 0 && samplingPercent <= 100)) {
                throw new IllegalArgumentException("samplingPercent: must be in 0..100, was " + samplingPercent);
            }
            if (queueSize < 1) {
                throw new IllegalArgumentException("queueSize: must be at least 1, was " + queueSize);
            }
        }

        public boolean enabled() {
            return path != null;
        }
    }
}
