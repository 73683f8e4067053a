package io.meshproxy.tls;

import java.util.concurrent.atomic.LongAdder;

/**
 * Full, resumed and failed TLS handshakes of one side (a server or a client context), and their total time.
 * Written from any event loop (LongAdders); read as a {@link Snapshot}.
 *
 * <p>A handshake's time runs from the moment the connection is active (TCP established) to the handshake's
 * completion event on this side. Whether it was resumed comes from BoringSSL itself
 * ({@code SSL_session_reused}) on the OpenSSL provider.
 */
public final class HandshakeStats {
    private final LongAdder full = new LongAdder();
    private final LongAdder resumed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder fullNanos = new LongAdder();
    private final LongAdder resumedNanos = new LongAdder();

    public void recordSuccess(boolean wasResumed, long nanos) {
        if (wasResumed) {
            resumed.increment();
            resumedNanos.add(nanos);
        } else {
            full.increment();
            fullNanos.add(nanos);
        }
    }

    public void recordFailure() {
        failed.increment();
    }

    public Snapshot snapshot() {
        return new Snapshot(full.sum(), resumed.sum(), failed.sum(), fullNanos.sum(), resumedNanos.sum());
    }

    /** Counts and summed durations at one moment. */
    public record Snapshot(long full, long resumed, long failed, long fullNanos, long resumedNanos) {
        public long succeeded() {
            return full + resumed;
        }

        /** Resumed share of successful handshakes, 0..1 (0 when there were none). */
        public double resumedRatio() {
            return succeeded() == 0 ? 0 : (double) resumed / succeeded();
        }

        public double meanFullMicros() {
            return full == 0 ? 0 : fullNanos / 1000.0 / full;
        }

        public double meanResumedMicros() {
            return resumed == 0 ? 0 : resumedNanos / 1000.0 / resumed;
        }

        /** The difference since an earlier snapshot. */
        public Snapshot minus(Snapshot earlier) {
            return new Snapshot(full - earlier.full, resumed - earlier.resumed, failed - earlier.failed,
                    fullNanos - earlier.fullNanos, resumedNanos - earlier.resumedNanos);
        }
    }
}
