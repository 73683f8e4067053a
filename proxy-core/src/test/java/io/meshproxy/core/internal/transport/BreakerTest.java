package io.meshproxy.core.internal.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.FailureRateBreaker;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.core.upstream.Cluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The failure-rate breaker end to end: opens on failures, fails fast with UCB, probes, closes. */
class BreakerTest {

    @Test
    void opensFailsFastProbesAndClosesAgain() throws Exception {
        RequestLogs logs = new RequestLogs();
        FailureRateBreaker breaker = FailureRateBreaker.builder().failureRateThreshold(50).slidingWindowSize(10)
                .minimumNumberOfCalls(10).waitInOpenState(Duration.ofMillis(300)).permittedCallsInHalfOpenState(2)
                .build();
        ClusterConfig.Builder cluster = RetryTest.endpoints(UpstreamProtocol.HTTP1);
        try (TestUpstream up = TestUpstream.start("up").answerEverythingWith(500)) {
            cluster.endpoint("127.0.0.1", up.port()).failureRateBreaker(breaker);
            try (MeshProxy proxy = MeshProxy.builder().requestLogListener(logs)
                         .config(RetryTest.config(null, cluster)).build().start();
                 RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
                Cluster backend = proxy.clusters().get("backend");
                for (int i = 0; i < 10; i++) {
                    assertEquals(500, c.send(RetryTest.get("/a")).read().status(), "the upstream's own 500s");
                }
                assertEquals("OPEN", backend.breakerState());
                for (int i = 0; i < 20; i++) {
                    RawHttp.Response r = c.send(RetryTest.get("/open")).read();
                    assertEquals(503, r.status());
                    assertEquals("upstream circuit breaker open", r.text());
                }
                assertEquals(10, up.requestsReceived(), "while open nothing reaches the upstream");
                assertEquals("UCB", logs.awaitPath("/open").responseFlags());
                assertEquals(20, backend.stats().upstreamRqBreakerOpen.sum());

                up.answerEverythingWith(0); // the upstream recovers
                await("half-open after the wait lets a probe through").atMost(Duration.ofSeconds(10))
                        .until(() -> c.send(RetryTest.get("/probe")).read().status() == 200);
                assertEquals(200, c.send(RetryTest.get("/probe")).read().status(), "the second probe");
                assertEquals("CLOSED", backend.breakerState(), "both probes succeeded");
                for (int i = 0; i < 10; i++) {
                    assertEquals(200, c.send(RetryTest.get("/closed")).read().status());
                }
            }
        }
    }
}
