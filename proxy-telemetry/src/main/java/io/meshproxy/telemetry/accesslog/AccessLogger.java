package io.meshproxy.telemetry.accesslog;

import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.TelemetrySink;

/** Sampled JSON access logs through a bounded queue. (Skeleton: the access-log work fills it in.) */
public final class AccessLogger implements TelemetrySink {
    private AccessLogger() {}

    public static AccessLogger create(TelemetryConfig config) {
        return new AccessLogger();
    }
}
