package io.meshproxy.benchmarks.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.benchmarks.FixedResponseUpstream;
import io.meshproxy.benchmarks.LoopbackTransport;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The load generator itself, against a real upstream on loopback: it keeps its schedule, and its latency is
 * charged from the intended send time (coordinated omission), which a stalled response makes visible. The
 * bounds are on the generator's own schedule and on counts, never on the speed of the code under test.
 */
class OpenLoopLoadTest {
    private EventLoopGroup group;

    @BeforeEach
    void group() {
        group = LoopbackTransport.newGroup(1, "test-load");
    }

    @AfterEach
    void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void theScheduleSpacesIntendedSendTimesByOneOverTheRate() {
        OpenLoopLoad.Schedule s = new OpenLoopLoad.Schedule(1_000_000_000L, 500);
        for (long i = 0; i < 1000; i++) {
            assertEquals(2_000_000L, s.intended(i + 1) - s.intended(i), 1, "request " + i);
        }
        assertEquals(1_000_000_000L + 2_000_000_000L, s.intended(1000));
    }

    @Test
    void holdsFiveHundredRequestsPerSecondForTwoSecondsOverHttp1() throws Exception {
        try (FixedResponseUpstream upstream = new FixedResponseUpstream(1024, "u")) {
            OpenLoopLoad.Result r = OpenLoopLoad.run(group, Targets.http1(upstream.port(), "u", "/", 0), 4, 500,
                    Duration.ofSeconds(2), "u");
            assertEquals(1000, r.scheduled());
            assertEquals(1000, r.sent());
            assertEquals(1000, r.ok(), "all answered 200 by the expected upstream: " + r);
            assertEquals(0, r.wrongUpstream());
            assertEquals(1000, upstream.requestsReceived());
            // The sends span the schedule: request 0 at t, request 999 at t + 1.998 s (generous: the machine is shared).
            double spanSeconds = (r.lastSendNanos() - r.firstSendNanos()) / 1e9;
            assertTrue(spanSeconds > 1.9 && spanSeconds < 2.3, "sends spanned " + spanSeconds + " s, expected ~1.998");
            assertTrue(Math.abs(r.achievedRate() - 500) < 50, "achieved " + r.achievedRate() + "/s");
        }
    }

    @Test
    void http2CarriesTheLoadOnFewConnections() throws Exception {
        try (FixedResponseUpstream upstream = new FixedResponseUpstream(1024, "u")) {
            OpenLoopLoad.Result r = OpenLoopLoad.run(group, Targets.h2c(upstream.port(), "u", "/", 0), 2, 400,
                    Duration.ofSeconds(1), "u");
            assertEquals(400, r.sent());
            assertEquals(400, r.ok(), r.toString());
            assertEquals(0, r.wrongUpstream());
            OpenLoopLoad.Result post = OpenLoopLoad.run(group, Targets.h2c(upstream.port(), "u", "/", 100_000), 1, 50,
                    Duration.ofSeconds(1), "u");
            assertEquals(50, post.ok(), "100 kB POST bodies (beyond the 64 kB initial window): " + post);
        }
    }

    /**
     * One response stalls 1 s at a known moment (the 101st request, 1 s into a 100/s load on one connection):
     * the ~100 requests due during the stall wait behind it. Corrected, their latencies run down from ~1 s
     * about linearly — request k behind the stall waits 1 s − k × (10 ms − d), d being one round trip — so
     * about rate × 0.5 s = 50 of them (a few more the longer a round trip takes) are at or above 500 ms; the
     * service time, measured from the actual send, shows only the stalled one.
     */
    @Test
    void coordinatedOmissionIsCorrectedOnASyntheticStall() throws Exception {
        try (FixedResponseUpstream upstream = new FixedResponseUpstream(64, "u", Duration.ZERO, 101,
                Duration.ofSeconds(1))) {
            OpenLoopLoad.Result r = OpenLoopLoad.run(group, Targets.http1(upstream.port(), "u", "/", 0), 1, 100,
                    Duration.ofSeconds(3), "u");
            assertEquals(300, r.ok(), r.toString());
            long slowCorrected = r.latency().getCountBetweenValues(500_000, OpenLoopLoad.HIGHEST_MICROS);
            long slowService = r.serviceTime().getCountBetweenValues(500_000, OpenLoopLoad.HIGHEST_MICROS);
            assertTrue(r.latency().getMaxValue() >= 1_000_000, "the stalled request's latency: " + r.latency().getMaxValue());
            assertEquals(1, slowService, "service-time samples >= 500 ms: only the stalled response");
            // The prediction of the linear model from the round trip this run measured (the service-time median).
            double roundTripMs = r.serviceTime().getValueAtPercentile(50) / 1000.0;
            assertTrue(roundTripMs < 5, "a round trip took " + roundTripMs + " ms: too loaded a machine to tell");
            double predicted = 500 / (10 - roundTripMs) + 1;
            assertTrue(slowCorrected >= 45 && Math.abs(slowCorrected - predicted) <= Math.max(10, predicted * 0.25),
                    "corrected samples >= 500 ms: " + slowCorrected + ", expected ~" + Math.round(predicted)
                            + " (100/s × 0.5 s, round trip " + roundTripMs + " ms)");
            // Spread about linearly: about as many between 500 and 750 ms as at or above 750 ms.
            long upper = r.latency().getCountBetweenValues(750_000, OpenLoopLoad.HIGHEST_MICROS);
            long lower = slowCorrected - upper;
            assertTrue(Math.abs(upper - lower) <= Math.max(8, slowCorrected / 5), "500-750 ms: " + lower
                    + ", >= 750 ms: " + upper);
        }
    }
}
