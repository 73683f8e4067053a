package io.meshproxy.core.upstream;

import static io.meshproxy.core.resilience.Outcome.CONNECT_FAILURE;
import static io.meshproxy.core.resilience.Outcome.ERROR_5XX;
import static io.meshproxy.core.resilience.Outcome.GATEWAY_ERROR;
import static io.meshproxy.core.resilience.Outcome.RESET;
import static io.meshproxy.core.resilience.Outcome.SUCCESS;
import static io.meshproxy.core.resilience.Outcome.TIMEOUT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.resilience.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Envoy's consecutive-error outlier detection, driven by a fake clock and direct sweeps: no sleeping. */
class OutlierDetectorTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final ClusterStats stats = new ClusterStats();
    private final List<Host> hosts = HostFixtures.equalHosts(3);
    private final Host a = hosts.get(0);
    private final Host b = hosts.get(1);

    private OutlierDetection.Builder config() {
        return OutlierDetection.builder().consecutive5xxErrors(3).interval(Duration.ofSeconds(1))
                .baseEjectionTime(Duration.ofSeconds(10)).maxEjectionTime(Duration.ofSeconds(300))
                .maxEjectionPercent(100);
    }

    private OutlierDetector detector(OutlierDetection config) {
        return new OutlierDetector(config, hosts, stats, now::get);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    private static void report(OutlierDetector d, Host h, Outcome... outcomes) {
        for (Outcome o : outcomes) {
            d.report(h, o);
        }
    }

    @Test
    void threeConsecutive5xxEjectAtOnce() {
        OutlierDetector d = detector(config().build());
        report(d, a, ERROR_5XX, ERROR_5XX);
        assertTrue(a.healthy(), "two errors are not a run of three");
        d.report(a, ERROR_5XX);
        assertFalse(a.healthy(), "ejected on the third error, before any sweep");
        assertTrue(a.failedOutlierCheck());
        assertEquals("/failed_outlier_check", a.healthFlags());
        assertTrue(d.ejected(a));
        assertEquals(1, d.ejectedCount());
        assertEquals(1, stats.ejectionsEnforcedTotal.sum());
        assertEquals(1, stats.ejectionsActive.sum());
        assertEquals(1, stats.ejectionsEnforcedConsecutive5xx.sum());
        assertTrue(b.healthy(), "other hosts untouched");
    }

    @Test
    void aSuccessBreaksTheRun() {
        OutlierDetector d = detector(config().build());
        report(d, a, ERROR_5XX, ERROR_5XX, SUCCESS, ERROR_5XX, ERROR_5XX);
        assertTrue(a.healthy());
        d.report(a, ERROR_5XX);
        assertFalse(a.healthy());
    }

    @Test
    void ejectionLastsBaseTimeTimesTheEjectionsInARowAndEndsAtTheSweepAfterIt() {
        OutlierDetector d = detector(config().build());
        for (int n = 1; n <= 3; n++) {
            report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
            assertFalse(a.healthy(), "ejection " + n);
            assertEquals(n * 10_000L, d.ejectedRemainingMillis(a), "ejection " + n + " lasts " + n + " x base");
            advance(Duration.ofSeconds(10L * n).minusMillis(1));
            d.sweep();
            assertFalse(a.healthy(), "still ejected 1 ms before the end of ejection " + n);
            assertEquals(1, d.ejectedRemainingMillis(a));
            advance(Duration.ofMillis(1));
            assertFalse(a.healthy(), "returns only at a sweep");
            d.sweep();
            assertTrue(a.healthy(), "back after ejection " + n);
            assertEquals(0, d.ejectedRemainingMillis(a));
        }
        assertEquals(3, stats.ejectionsEnforcedTotal.sum());
        assertEquals(0, stats.ejectionsActive.sum());
        assertEquals(0, d.ejectedCount());
    }

    @Test
    void ejectionTimeIsCappedByMaxEjectionTime() {
        OutlierDetector d = detector(config().maxEjectionTime(Duration.ofSeconds(25)).build());
        long[] expected = {10_000, 20_000, 25_000, 25_000};
        for (long ms : expected) {
            report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
            assertEquals(ms, d.ejectedRemainingMillis(a));
            advance(Duration.ofMillis(ms));
            d.sweep();
            assertTrue(a.healthy());
        }
    }

    @Test
    void aBaseTimeAboveMaxEjectionTimeStillEjectsForTheBaseTime() {
        OutlierDetector d = detector(config().baseEjectionTime(Duration.ofSeconds(60))
                .maxEjectionTime(Duration.ofSeconds(30)).build());
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        assertEquals(60_000, d.ejectedRemainingMillis(a));
    }

    @Test
    void theEjectionMultiplierDecaysOnePerSweepWhileTheHostBehaves() {
        OutlierDetector d = detector(config().build());
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX); // 1st: 10 s
        advance(Duration.ofSeconds(10));
        d.sweep();
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX); // 2nd in a row: 20 s
        assertEquals(20_000, d.ejectedRemainingMillis(a));
        advance(Duration.ofSeconds(20));
        d.sweep(); // returns; the multiplier is 2
        d.sweep(); // 2 -> 1
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        assertEquals(20_000, d.ejectedRemainingMillis(a), "one sweep of good behaviour took one step off");
        advance(Duration.ofSeconds(20));
        d.sweep(); // returns; multiplier 2
        d.sweep();
        d.sweep(); // 2 -> 0
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        assertEquals(10_000, d.ejectedRemainingMillis(a), "a host healthy for long starts again at base time");
    }

    @Test
    void maxEjectionPercentLetsOnlyOneOfThreeHostsOutAtFiftyPercent() {
        OutlierDetector d = detector(config().maxEjectionPercent(50).build());
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        report(d, b, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        assertFalse(a.healthy());
        assertTrue(b.healthy(), "a second ejection would be 66% > 50%");
        assertEquals(1, d.ejectedCount());
        assertEquals(1, stats.ejectionsOverflow.sum());
        assertEquals(1, stats.ejectionsEnforcedTotal.sum());

        // b's run started again after the refused ejection; once a is back, b's next run ejects it.
        advance(Duration.ofSeconds(10));
        d.sweep();
        assertTrue(a.healthy());
        report(d, b, ERROR_5XX, ERROR_5XX);
        assertTrue(b.healthy(), "a refused ejection starts the run afresh");
        d.report(b, ERROR_5XX);
        assertFalse(b.healthy());
        assertEquals(2, stats.ejectionsEnforcedTotal.sum());
    }

    @Test
    void oneHostMayAlwaysBeEjectedEvenBelowOneHostsShare() {
        OutlierDetector d = detector(config().maxEjectionPercent(10).build());
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        report(d, b, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        assertFalse(a.healthy(), "with none ejected, one may be (Envoy), though 1 of 3 is 33% > 10%");
        assertTrue(b.healthy());
        assertEquals(1, stats.ejectionsOverflow.sum());
    }

    @Test
    void maxEjectionPercentZeroEjectsNothing() {
        OutlierDetector d = detector(config().maxEjectionPercent(0).build());
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        assertTrue(a.healthy());
        assertEquals(1, stats.ejectionsOverflow.sum());
    }

    @Test
    void unsplitLocalOriginFailuresCountAsErrors() {
        OutlierDetector d = detector(config().build());
        report(d, a, CONNECT_FAILURE, ERROR_5XX, TIMEOUT);
        assertFalse(a.healthy(), "connect failure, 500 and timeout are a run of three errors");
        assertEquals(1, stats.ejectionsEnforcedConsecutive5xx.sum());
    }

    @Test
    void splitLocalOriginFailuresCountApartFromTheUpstreamsAnswers() {
        OutlierDetector d = detector(config().splitExternalLocalOriginErrors(true)
                .consecutiveLocalOriginFailures(4).build());
        report(d, a, CONNECT_FAILURE, RESET, TIMEOUT);
        assertTrue(a.healthy(), "local-origin failures do not count toward consecutive5xxErrors");
        d.report(a, ERROR_5XX);
        assertTrue(a.healthy(), "an answer from the upstream ends the local-origin run");
        report(d, a, CONNECT_FAILURE, CONNECT_FAILURE, CONNECT_FAILURE);
        assertTrue(a.healthy());
        d.report(a, ERROR_5XX);
        assertTrue(a.healthy(), "the 5xx run (2) went on through the local-origin failures");
        d.report(a, ERROR_5XX);
        assertFalse(a.healthy(), "third 5xx answer in a row");
        assertEquals(1, stats.ejectionsEnforcedConsecutive5xx.sum());

        report(d, b, CONNECT_FAILURE, CONNECT_FAILURE, CONNECT_FAILURE);
        d.report(b, SUCCESS);
        report(d, b, CONNECT_FAILURE, CONNECT_FAILURE, CONNECT_FAILURE);
        assertTrue(b.healthy(), "a success ends the local-origin run");
        d.report(b, TIMEOUT);
        assertFalse(b.healthy(), "four local-origin failures in a row");
        assertEquals(1, stats.ejectionsEnforcedConsecutiveLocalOriginFailure.sum());
    }

    @Test
    void gatewayDetectorCountsOnly502To504AndLocalOriginFailures() {
        OutlierDetector d = detector(config().consecutive5xxErrors(0).consecutiveGatewayErrors(2).build());
        report(d, a, GATEWAY_ERROR, ERROR_5XX, GATEWAY_ERROR);
        assertTrue(a.healthy(), "a 500 ends a run of gateway errors");
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        assertTrue(a.healthy(), "500s do not count (and consecutive5xxErrors 0 is off)");
        report(d, a, GATEWAY_ERROR, GATEWAY_ERROR);
        assertFalse(a.healthy());
        assertEquals(1, stats.ejectionsEnforcedConsecutiveGatewayFailure.sum());
        assertEquals(0, stats.ejectionsEnforcedConsecutive5xx.sum());

        report(d, b, RESET, TIMEOUT);
        assertFalse(b.healthy(), "unsplit, local-origin failures are gateway failures");
    }

    @Test
    void zeroThresholdsDisableEveryDetector() {
        OutlierDetector d = detector(config().consecutive5xxErrors(0).consecutiveGatewayErrors(0)
                .consecutiveLocalOriginFailures(0).build());
        for (int i = 0; i < 100; i++) {
            report(d, a, ERROR_5XX, GATEWAY_ERROR, CONNECT_FAILURE);
        }
        assertTrue(a.healthy());
        assertEquals(0, stats.ejectionsEnforcedTotal.sum() + stats.ejectionsOverflow.sum());
    }

    @Test
    void answersStillInFlightForAnEjectedHostAndUnknownHostsAreIgnored() {
        OutlierDetector d = detector(config().build());
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        assertEquals(1, stats.ejectionsEnforcedTotal.sum());
        assertEquals(0, stats.ejectionsOverflow.sum());
        advance(Duration.ofSeconds(10));
        d.sweep();
        report(d, a, ERROR_5XX, ERROR_5XX);
        assertTrue(a.healthy(), "the run restarted at the ejection, not carried from the in-flight answers");

        Host stranger = HostFixtures.hosts(1).get(0);
        report(d, stranger, ERROR_5XX, ERROR_5XX, ERROR_5XX);
        assertTrue(stranger.healthy());
    }

    @Test
    void startedDetectorSweepsOnItsSchedulerUntilClosed() {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try {
            OutlierDetector d = new OutlierDetector(config().interval(Duration.ofMillis(20)).build(), hosts, stats,
                    now::get);
            d.start(scheduler);
            report(d, a, ERROR_5XX, ERROR_5XX, ERROR_5XX);
            assertFalse(a.healthy());
            advance(Duration.ofSeconds(10));
            await().atMost(Duration.ofSeconds(5)).until(a::healthy);
            d.close();
            report(d, b, ERROR_5XX, ERROR_5XX, ERROR_5XX);
            assertTrue(b.healthy(), "a closed detector ejects nothing");
        } finally {
            scheduler.shutdownNow();
        }
    }
}
