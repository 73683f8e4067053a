package io.meshproxy.core.resilience;

import io.meshproxy.core.config.LocalRateLimit;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The token bucket of Envoy's {@code local_ratelimit}: it starts full at {@code maxTokens}, and at the end of
 * every {@code fillInterval} (counted from the bucket's creation) it gains {@code tokensPerFill}, never holding
 * more than {@code maxTokens}. Each admitted request takes one token.
 *
 * <p>Shared by every event loop and lock-free: the whole state is one {@link AtomicLong}, and refills are not
 * done by a timer but computed, when a token is asked for, from the injected nano clock. The state is a mark
 * on the scale of "tokens granted since creation, ignoring the cap": with {@code granted(t) = maxTokens +
 * tokensPerFill * fills(t)}, the bucket holds {@code min(maxTokens, granted(t) - mark)}. Taking a token sets
 * the mark so that the bucket then holds one token less than it did, which also applies the cap at that
 * moment; between takes the cap is applied when the bucket is read, which gives the same count because
 * fills only ever add. Arithmetic wraps around only after more than 2<sup>63</sup> tokens would have been
 * granted, centuries for any real configuration.
 */
public final class TokenBucket {
    private final long maxTokens;
    private final long tokensPerFill;
    private final long fillIntervalNanos;
    private final LongSupplier nanoClock;
    private final long origin;
    private final AtomicLong mark;

    /** A bucket on {@link System#nanoTime()}. */
    public TokenBucket(LocalRateLimit config) {
        this(config, System::nanoTime);
    }

    /** @param nanoClock a monotonic clock in nanoseconds, read on every {@link #tryTake()} */
    public TokenBucket(LocalRateLimit config, LongSupplier nanoClock) {
        this(config.maxTokens(), config.tokensPerFill(), config.fillInterval().toNanos(), nanoClock);
    }

    TokenBucket(long maxTokens, long tokensPerFill, long fillIntervalNanos, LongSupplier nanoClock) {
        if (maxTokens < 1 || tokensPerFill < 1 || fillIntervalNanos < 1) {
            throw new IllegalArgumentException("maxTokens, tokensPerFill and fillInterval must be positive");
        }
        this.maxTokens = maxTokens;
        // A fill of more than the bucket holds fills it; the smaller number keeps the arithmetic far from overflow.
        this.tokensPerFill = Math.min(tokensPerFill, maxTokens);
        this.fillIntervalNanos = fillIntervalNanos;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.origin = nanoClock.getAsLong();
        this.mark = new AtomicLong(0); // granted(origin) - mark = maxTokens: it starts full
    }

    /** Takes one token if there is one; false means over the limit. Never blocks. */
    public boolean tryTake() {
        while (true) {
            long current = mark.get();
            // Read the clock after the mark: the mark was set from a clock reading no later than this one,
            // so the granted count seen by successive successful takes never goes backwards.
            long granted = granted(nanoClock.getAsLong());
            long available = Math.min(maxTokens, granted - current);
            if (available < 1) {
                return false;
            }
            if (mark.compareAndSet(current, granted - (available - 1))) {
                return true;
            }
        }
    }

    /** Tokens in the bucket now (for admin output and tests); may be stale by the time it returns. */
    public long available() {
        long current = mark.get();
        return Math.max(0, Math.min(maxTokens, granted(nanoClock.getAsLong()) - current));
    }

    public long maxTokens() {
        return maxTokens;
    }

    private long granted(long now) {
        long fills = (now - origin) / fillIntervalNanos; // nanoTime differences are safe across its wrap-around
        return maxTokens + fills * tokensPerFill;
    }

    @Override
    public String toString() {
        return "TokenBucket[" + available() + "/" + maxTokens + ", +" + tokensPerFill + " per "
                + fillIntervalNanos + "ns]";
    }
}
