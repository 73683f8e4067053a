package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.core.upstream.Cluster;
import io.meshproxy.core.upstream.Host;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Outlier detection end to end: the attempts' classified outcomes eject a failing endpoint, which gets no
 * traffic while ejected, comes back when its ejection ends, and is ejected for longer the next time.
 */
class OutlierEjectionTest {

    @Test
    void anEjectedEndpointGetsNothingUntilItsEjectionEndsThenReturnsAndIsEjectedLongerNextTime() throws Exception {
        OutlierDetection outlier = OutlierDetection.builder().consecutive5xxErrors(3).interval(Duration.ofMillis(500))
                .baseEjectionTime(Duration.ofMillis(600)).maxEjectionPercent(50).build();
        try (TestUpstream a = TestUpstream.start("a"); TestUpstream b = TestUpstream.start("b");
             TestUpstream bad = TestUpstream.start("bad").answerEverythingWith(500);
             MeshProxy proxy = MeshProxy.builder()
                     .config(RetryTest.config(RetryTest.on(2, RetryOn.FIVE_XX),
                             RetryTest.endpoints(UpstreamProtocol.HTTP1, a.port(), bad.port(), b.port())
                                     .outlierDetection(outlier)))
                     .build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            Cluster cluster = proxy.clusters().get("backend");
            Host badHost = cluster.hosts().stream().filter(h -> h.port() == bad.port()).findFirst().orElseThrow();
            while (!badHost.failedOutlierCheck()) {
                assertEquals(200, c.send(RetryTest.get("/x")).read().status(), "retried around the 500s");
            }
            assertEquals(3, bad.requestsReceived(), "ejected after exactly three 500s in a row");
            // While it is ejected, it gets nothing (checked request by request, so no timing is assumed).
            int sent = 0;
            while (badHost.failedOutlierCheck()) {
                assertEquals(200, c.send(RetryTest.get("/x")).read().status());
                if (badHost.failedOutlierCheck()) {
                    assertEquals(3, bad.requestsReceived(), "an ejected endpoint receives no traffic");
                }
                sent++;
            }
            assertTrue(sent > 0);
            // Back in rotation: it gets traffic again, fails three more times, and is ejected a second time
            // (quickly, within one interval, so the ejection count has not decayed in between).
            for (int i = 0; i < 100 && !badHost.failedOutlierCheck(); i++) {
                assertEquals(200, c.send(RetryTest.get("/x")).read().status());
            }
            assertTrue(badHost.failedOutlierCheck());
            assertEquals(6, bad.requestsReceived());
            var stats = cluster.stats().snapshot();
            assertEquals(2L, stats.get("outlier_detection.ejections_enforced_total"));
            long remaining = cluster.outlierDetector().ejectedRemainingMillis(badHost);
            assertTrue(remaining > 600, "the second ejection lasts 2 x baseEjectionTime: " + remaining + " ms left");
        }
    }
}
