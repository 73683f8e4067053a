package io.meshproxy.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.filter.RequestEventListener;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which components a configuration turns on, and that everything off costs the core nothing. */
class TelemetryTest {

    @Test
    void everythingOffIsTheNoOpListener() {
        TelemetryConfig off = new TelemetryConfig(null, null,
                new TelemetryConfig.Metrics(false, List.of(), List.of(), 10), null, null);
        try (Telemetry t = Telemetry.create(off, null)) {
            assertSame(RequestEventListener.NONE, t.listener());
            assertTrue(t.sinks().isEmpty());
            assertEquals(Map.of(), t.adminEndpoints());
        }
    }

    @Test
    void theDefaultIsMetricsOnlyAndTheReporterFollowsTheListenersDirection() {
        TelemetryConfig config = new TelemetryConfig(null, Map.of("inbound", "destination"), null, null, null);
        try (Telemetry t = Telemetry.create(config, null)) {
            assertEquals(1, t.sinks().size());
            assertTrue(t.sinks().get(0) instanceof io.meshproxy.telemetry.metrics.IstioMetrics);
            assertEquals("destination", config.reporter("inbound"));
            assertEquals("source", config.reporter("outbound"));
            assertEquals("unknown", config.workload().name());
            assertEquals("default", config.workload().namespace());
        }
    }
}
