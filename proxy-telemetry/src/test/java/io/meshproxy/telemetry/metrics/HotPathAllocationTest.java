package io.meshproxy.telemetry.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.telemetry.RequestTelemetry;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Recording a request allocates nothing once its label combination exists: measured with the JVM's per-thread
 * allocation counter around 10,000 recordings (not a speed assertion: a byte count). One of the two goes to an
 * upstream over mTLS, so its peer principal is a label too: interned, it costs no allocation either.
 */
class HotPathAllocationTest {
    @Test
    void recordingAKnownCombinationAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        IstioMetrics metrics = IstioMetrics.create(IstioMetricsTest.telemetry(null), null);
        RequestContext ok = new RequestContext("in", "HTTP/1.1", null, null, false, null, System.nanoTime());
        RequestContext uh = new RequestContext("in", "HTTP/1.1", null, null, false, null, System.nanoTime());
        uh.addResponseFlag(ResponseFlag.UH);
        ok.upstreamPeerPrincipal("cluster.local/ns/default/sa/bookinfo-reviews");
        RequestTelemetry t = new RequestTelemetry();
        t.reporter = "source";
        RequestLog okLog = new RequestLog("in", "HTTP/1.1", "GET", "a", "/p", "id", "r", IstioMetricsTest.REVIEWS,
                "127.0.0.1:1", 200, "-", "via_upstream", 0, 7, 1_500_000);
        RequestLog uhLog = new RequestLog("in", "HTTP/1.1", "GET", "a", "/p", "id", "r", "empty", null, 503, "UH",
                "no_healthy_upstream", 0, 19, 200_000);
        for (int i = 0; i < 20_000; i++) { // creates the two combinations, then warms up
            metrics.onRequestEnd(t, ok, okLog);
            metrics.onRequestEnd(t, uh, uhLog);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            metrics.onRequestEnd(t, ok, okLog);
            metrics.onRequestEnd(t, uh, uhLog);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 20_000, "20,000 recordings allocated " + allocated + " bytes");
        assertEquals(8, metrics.seriesCount());
        assertEquals(30_000, metrics.registry().find("istio.requests").tag("response_flags", "UH").counter().count());
        assertEquals(30_000, metrics.registry().find("istio.requests")
                .tag("destination_principal", "spiffe://cluster.local/ns/default/sa/bookinfo-reviews")
                .tag("source_principal", "spiffe://cluster.local/ns/default/sa/bookinfo-productpage")
                .counter().count());
        metrics.close();
    }

    @Test
    void principalsAreBoundedLikeSeries() {
        // room for 2 request series (4 meters each): a third principal would pass the cap and is dropped
        IstioMetrics metrics = IstioMetrics.create(IstioMetricsTest.telemetry(
                new io.meshproxy.telemetry.TelemetryConfig.Metrics(true, null, null, 8)), null);
        RequestTelemetry t = new RequestTelemetry();
        t.reporter = "source";
        RequestLog log = new RequestLog("in", "HTTP/1.1", "GET", "a", "/p", "id", "r", IstioMetricsTest.REVIEWS,
                "127.0.0.1:1", 200, "-", "via_upstream", 0, 7, 1_500_000);
        for (int i = 0; i < 3; i++) {
            RequestContext ctx = new RequestContext("in", "HTTP/1.1", null, null, false, null, System.nanoTime());
            ctx.upstreamPeerPrincipal("cluster.local/ns/default/sa/sa-" + i);
            metrics.onRequestEnd(t, ctx, log);
        }
        assertEquals(8, metrics.seriesCount());
        assertEquals(1, metrics.registry().find("meshproxy.metrics.series.dropped").counter().count());
        assertEquals(1, metrics.registry().find("istio.requests")
                .tag("destination_principal", "spiffe://cluster.local/ns/default/sa/sa-1").counter().count());
        metrics.close();
    }
}
