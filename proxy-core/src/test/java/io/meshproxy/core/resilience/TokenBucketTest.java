package io.meshproxy.core.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.LocalRateLimit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Envoy's local_ratelimit bucket on a fake nano clock: burst, discrete refill, cap, and many takers at once. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TokenBucketTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    /** Starts at an arbitrary, even negative, nanoTime-like value: only differences count. */
    private final AtomicLong clock = new AtomicLong(-123_456_789L);

    private TokenBucket bucket(long max, long perFill, Duration interval) {
        return new TokenBucket(new LocalRateLimit(max, perFill, interval), clock::get);
    }

    private static int takeAll(TokenBucket b) {
        int n = 0;
        while (b.tryTake()) {
            n++;
            if (n > 1_000_000) {
                throw new AssertionError("bucket never empties");
            }
        }
        return n;
    }

    @Test
    void startsFullAndAllowsABurstOfMaxTokens() {
        TokenBucket b = bucket(5, 1, Duration.ofHours(1));
        assertEquals(5, b.available());
        assertEquals(5, takeAll(b));
        assertFalse(b.tryTake(), "empty stays empty without time passing");
        assertEquals(0, b.available());
    }

    @Test
    void refillsTokensPerFillAtTheEndOfEachIntervalNotBefore() {
        TokenBucket b = bucket(10, 3, Duration.ofSeconds(1));
        assertEquals(10, takeAll(b));
        clock.addAndGet(SECOND - 1);
        assertFalse(b.tryTake(), "no partial fills: Envoy adds tokens at the end of each interval");
        clock.addAndGet(1);
        assertEquals(3, b.available());
        assertEquals(3, takeAll(b));
        clock.addAndGet(2 * SECOND + SECOND / 2);
        assertEquals(6, takeAll(b), "two more intervals ended");
        clock.addAndGet(SECOND / 2);
        assertEquals(3, takeAll(b), "the third interval ends on the original schedule, not from the last take");
    }

    @Test
    void neverHoldsMoreThanMaxTokens() {
        TokenBucket b = bucket(4, 3, Duration.ofSeconds(1));
        clock.addAndGet(1000 * SECOND);
        assertEquals(4, b.available(), "a long idle time fills the bucket, no more");
        assertEquals(4, takeAll(b));
        assertTrue(b.available() == 0);

        // partly full when a fill comes: capped at that fill, not accumulated beyond
        clock.addAndGet(SECOND);
        assertTrue(b.tryTake()); // 3 -> 2
        clock.addAndGet(SECOND); // 2 + 3 = 5, capped at 4
        assertEquals(4, b.available());
        clock.addAndGet(SECOND);
        assertEquals(4, takeAll(b), "the cap held across fills without takes");
    }

    @Test
    void aFillLargerThanTheBucketFillsIt() {
        TokenBucket b = bucket(2, 100, Duration.ofMillis(1));
        assertEquals(2, takeAll(b));
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
        assertEquals(2, takeAll(b));
    }

    @Test
    void concurrentTakersGetExactlyTheTokensInTheBucket() throws Exception {
        long max = 10_000;
        TokenBucket b = bucket(max, 1, Duration.ofHours(1));
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    long taken = 0;
                    for (int i = 0; i < 2 * max; i++) {
                        if (b.tryTake()) {
                            taken++;
                        }
                    }
                    return taken;
                }));
            }
            start.countDown();
            long total = 0;
            for (Future<Long> f : results) {
                total += f.get();
            }
            assertEquals(max, total, "no token taken twice, none lost to a failed race");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentTakersWhileTimePassesGetExactlyTheTokensGranted() throws Exception {
        long max = 50;
        long perFill = 7;
        TokenBucket b = bucket(max, perFill, Duration.ofSeconds(1));
        int threads = 4;
        int fills = 500;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicBoolean stop = new AtomicBoolean();
        try {
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    long taken = 0;
                    while (!stop.get()) {
                        if (b.tryTake()) {
                            taken++;
                        }
                    }
                    return taken;
                }));
            }
            // Time moves on only once the takers have emptied the bucket, so no fill is lost to the cap and
            // the tokens granted are exactly max + fills * perFill; the takers race for each of them.
            for (int i = 0; i < fills; i++) {
                while (b.available() > 0) {
                    Thread.onSpinWait();
                }
                clock.addAndGet(SECOND);
            }
            while (b.available() > 0) {
                Thread.onSpinWait();
            }
            stop.set(true);
            long total = 0;
            for (Future<Long> f : results) {
                total += f.get();
            }
            assertEquals(max + fills * perFill, total, "every token granted taken once, none more");
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
    }
}
