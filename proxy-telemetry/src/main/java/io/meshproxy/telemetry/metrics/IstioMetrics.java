package io.meshproxy.telemetry.metrics;

import io.meshproxy.core.AdminEndpoint;
import io.meshproxy.core.upstream.Cluster;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.TelemetrySink;
import java.util.Map;
import java.util.function.Supplier;

/** Istio's standard metrics on Micrometer. (Skeleton: the metrics work fills it in.) */
public final class IstioMetrics implements TelemetrySink {
    private IstioMetrics() {}

    public static IstioMetrics create(TelemetryConfig config, io.micrometer.core.instrument.MeterRegistry registry) {
        return new IstioMetrics();
    }

    /** {@code /stats/prometheus} and {@code /stats}. */
    public Map<String, AdminEndpoint> adminEndpoints() {
        return Map.of();
    }

    public void bindClusters(Supplier<Map<String, Cluster>> clusters) {}
}
