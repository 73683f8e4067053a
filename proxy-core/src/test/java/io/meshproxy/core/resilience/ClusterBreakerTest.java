package io.meshproxy.core.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.FailureRateBreaker;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The breaker's state machine, driven by a clock the test moves: no sleeping. */
class ClusterBreakerTest {

    /** A clock that only moves when told to. */
    static final class ManualClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    static final FailureRateBreaker CONFIG = FailureRateBreaker.builder().failureRateThreshold(50)
            .slidingWindowSize(10).minimumNumberOfCalls(10).waitInOpenState(Duration.ofSeconds(30))
            .permittedCallsInHalfOpenState(2).build();

    static void call(ClusterBreaker b, Outcome o) {
        assertTrue(b.tryAcquire());
        b.record(o, 1_000_000);
    }

    @Test
    void opensAtItsFailureRateFailsFastProbesHalfOpenAndClosesOnSuccess() {
        ManualClock clock = new ManualClock();
        ClusterBreaker b = new ClusterBreaker("c", CONFIG, clock);
        for (int i = 0; i < 5; i++) {
            call(b, Outcome.SUCCESS);
        }
        for (int i = 0; i < 4; i++) {
            call(b, Outcome.GATEWAY_ERROR);
        }
        assertEquals("CLOSED", b.state(), "9 calls: below the minimum number of calls");
        call(b, Outcome.CONNECT_FAILURE);
        assertEquals("OPEN", b.state(), "5 failures of 10: the 50% threshold");
        assertFalse(b.tryAcquire(), "open: fails fast");
        clock.advance(Duration.ofSeconds(29));
        assertFalse(b.tryAcquire(), "still waiting in open state");
        clock.advance(Duration.ofSeconds(2));
        assertTrue(b.tryAcquire(), "after the wait: the first half-open probe");
        assertEquals("HALF_OPEN", b.state());
        assertTrue(b.tryAcquire(), "the second probe");
        assertFalse(b.tryAcquire(), "only two probes are permitted");
        b.record(Outcome.SUCCESS, 1);
        b.record(Outcome.SUCCESS, 1);
        assertEquals("CLOSED", b.state(), "both probes succeeded");
        assertTrue(b.tryAcquire());
        b.release();
    }

    @Test
    void aFailedProbeOpensItAgainAndReleasedPermitsAreNotCounted() {
        ManualClock clock = new ManualClock();
        ClusterBreaker b = new ClusterBreaker("c", CONFIG, clock);
        for (int i = 0; i < 10; i++) {
            assertTrue(b.tryAcquire());
            b.release(); // cancelled attempts teach nothing
        }
        assertEquals("CLOSED", b.state());
        for (int i = 0; i < 10; i++) {
            call(b, Outcome.RESET);
        }
        assertEquals("OPEN", b.state());
        clock.advance(Duration.ofSeconds(31));
        assertTrue(b.tryAcquire());
        assertTrue(b.tryAcquire());
        b.record(Outcome.SUCCESS, 1);
        b.record(Outcome.TIMEOUT, 1);
        assertEquals("OPEN", b.state(), "one of two probes failed: 50% opens it again");
        assertFalse(b.tryAcquire());
        clock.advance(Duration.ofSeconds(29));
        assertFalse(b.tryAcquire(), "the second open wait is as long as the first");
        clock.advance(Duration.ofSeconds(2));
        assertTrue(b.tryAcquire(), "and then probes again");
        b.release();
    }

    @Test
    void slowCallsOpenItWhenTheSlowCallRateIsReached() {
        ClusterBreaker b = new ClusterBreaker("c", FailureRateBreaker.builder().slidingWindowSize(4)
                .minimumNumberOfCalls(4).slowCallRateThreshold(50).slowCallDuration(Duration.ofMillis(100)).build(),
                new ManualClock());
        for (int i = 0; i < 4; i++) {
            assertTrue(b.tryAcquire());
            b.record(Outcome.SUCCESS, Duration.ofMillis(i < 2 ? 500 : 1).toNanos());
        }
        assertEquals("OPEN", b.state(), "half the calls were slower than 100 ms");
    }
}
