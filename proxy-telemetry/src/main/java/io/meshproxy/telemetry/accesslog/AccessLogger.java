package io.meshproxy.telemetry.accesslog;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.telemetry.RequestTelemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.TelemetrySink;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's access log, the way Istio configures it with {@code accessLogEncoding: JSON}: one JSON line per
 * logged request (fields in {@link AccessLogFormat}), to a file (appended) or to standard output
 * ({@code /dev/stdout}).
 *
 * <p><b>Which requests.</b> The sampling decision is taken once per request at its start
 * ({@link RequestTelemetry#accessLogSampled}): {@code samplingPercent} of requests are logged. With
 * {@code alwaysLogErrors}, a request is logged whatever the sampling said when it ended with a 5xx, with any
 * Envoy response flag, or with no response at all (code 0: the downstream went away first).
 *
 * <p><b>Off the event loop.</b> At the end of a logged request the event loop only captures an immutable
 * {@link AccessLogEntry} (a few references, no formatting) and offers it to a bounded lock-free queue of
 * {@code queueSize} lines. A full queue drops the line and counts it ({@link #droppedLines()}); the event loop
 * never waits and never takes a lock. One daemon thread formats the lines (Jackson's streaming generator) into
 * a buffered stream and flushes whenever the queue runs empty. When idle it parks for at most
 * {@value #IDLE_PARK_MILLIS} ms; producers wake it early only once the queue is half full, so a
 * low-rate log costs the event loop no thread wake-up at all.
 *
 * <p>{@link #close()} writes what is queued (waiting at most {@value #CLOSE_WAIT_SECONDS} s) and stops the
 * thread; lines offered after it are dropped and counted.
 */
public final class AccessLogger implements TelemetrySink {
    /** The path meaning this process's standard output. */
    public static final String STDOUT = "/dev/stdout";
    static final long IDLE_PARK_MILLIS = 10;
    static final long CLOSE_WAIT_SECONDS = 5;
    private static final Logger LOG = LoggerFactory.getLogger(AccessLogger.class);
    private static final DoubleSupplier THREAD_LOCAL_RANDOM = () -> ThreadLocalRandom.current().nextDouble();

    private final String target;
    private final double samplingPercent;
    private final boolean alwaysLogErrors;
    private final DoubleSupplier random;
    private final int capacity;
    private final int wakeThreshold;
    private final ConcurrentLinkedQueue<AccessLogEntry> queue = new ConcurrentLinkedQueue<>();
    /** Lines in {@link #queue}, reserved before the offer so the bound is never exceeded. */
    private final AtomicInteger queued = new AtomicInteger();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final LongAdder writeErrors = new LongAdder();
    private final OutputStream out;
    private final AccessLogFormat format = new AccessLogFormat();
    private final Thread writer;
    private volatile boolean writerParked;
    private volatile boolean closed;

    /**
     * @param config the access-log settings
     * @param out where lines go; buffered here, flushed when the queue runs empty, closed by {@link #close()}
     * @param target what {@code out} is, for messages
     * @param random uniform in [0, 1) for the sampling decision; called on event loops, must be thread-safe
     */
    AccessLogger(TelemetryConfig.AccessLog config, OutputStream out, String target, DoubleSupplier random) {
        this.target = target;
        this.samplingPercent = config.samplingPercent();
        this.alwaysLogErrors = config.alwaysLogErrors();
        this.random = random;
        this.capacity = config.queueSize();
        this.wakeThreshold = Math.max(1, capacity / 2);
        this.out = new BufferedOutputStream(out, 64 * 1024);
        this.writer = new Thread(this::drain, "meshproxy-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * The access logger {@code config.accessLog()} describes. The file is opened (created, appended to) here,
     * so a path that cannot be written fails at startup, not on the first request.
     *
     * @throws UncheckedIOException when the file cannot be opened
     */
    public static AccessLogger create(TelemetryConfig config) {
        TelemetryConfig.AccessLog c = config.accessLog();
        if (!c.enabled()) {
            throw new IllegalArgumentException("accessLog.path: not set, access logs are off");
        }
        return new AccessLogger(c, open(c.path()), c.path(), THREAD_LOCAL_RANDOM);
    }

    private static OutputStream open(String path) {
        if (STDOUT.equals(path)) {
            // Never close System.out: other writers share it.
            return new FilterOutputStream(System.out) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    out.flush();
                }
            };
        }
        try {
            Path p = Path.of(path);
            Path parent = p.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return Files.newOutputStream(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        } catch (IOException | RuntimeException e) {
            throw new UncheckedIOException(new IOException("accessLog.path: cannot open " + path + " for append: "
                    + e.getMessage(), e));
        }
    }

    // ---- the event-loop side: decide, capture, offer ----

    @Override
    public void onRequestStart(RequestTelemetry t, RequestContext ctx, HttpRequest request) {
        t.accessLogSampled = samplingPercent >= 100
                || (samplingPercent > 0 && random.getAsDouble() * 100 < samplingPercent);
    }

    @Override
    public void onRequestEnd(RequestTelemetry t, RequestContext ctx, RequestLog log) {
        if (!t.accessLogSampled && !(alwaysLogErrors && isError(log))) {
            return;
        }
        offer(new AccessLogEntry(log, t.startEpochMicros, t.upstreamServiceTimeMillis(), t.xForwardedFor,
                t.userAgent, t.attempts, ctx.remoteAddress(), ctx.localAddress(), ctx.peerPrincipal(),
                ctx.upstreamPeerPrincipal()));
    }

    /** What {@code alwaysLogErrors} logs: a 5xx, any response flag, or no response at all. */
    static boolean isError(RequestLog log) {
        int code = log.responseCode();
        if (code == 0 || code >= 500) {
            return true;
        }
        String flags = log.responseFlags();
        return flags != null && !flags.isEmpty() && !"-".equals(flags);
    }

    private void offer(AccessLogEntry e) {
        if (closed) {
            dropped.increment();
            return;
        }
        int n = queued.incrementAndGet();
        if (n > capacity) {
            queued.decrementAndGet();
            dropped.increment();
            return;
        }
        queue.offer(e);
        if (n >= wakeThreshold && writerParked) {
            LockSupport.unpark(writer);
        }
    }

    // ---- the writer thread ----

    private void drain() {
        boolean dirty = false;
        while (true) {
            AccessLogEntry e = queue.poll();
            if (e != null) {
                queued.decrementAndGet();
                dirty |= write(e);
                continue;
            }
            if (dirty) {
                flush();
                dirty = false;
            }
            if (closed) {
                if (queue.isEmpty()) {
                    break;
                }
                continue;
            }
            writerParked = true;
            if (queue.isEmpty() && !closed) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(IDLE_PARK_MILLIS));
            }
            writerParked = false;
            if (Thread.interrupted() && closed) {
                break;
            }
        }
        try {
            out.close();
        } catch (IOException ex) {
            writeFailed(ex);
        }
    }

    private boolean write(AccessLogEntry e) {
        try {
            format.write(e, out);
            written.increment();
            return true;
        } catch (IOException | RuntimeException ex) {
            writeFailed(ex);
            return false;
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException ex) {
            writeFailed(ex);
        }
    }

    private void writeFailed(Exception ex) {
        writeErrors.increment();
        long n = writeErrors.sum();
        if (n == 1 || Long.bitCount(n) == 1) { // the first failure, then at powers of two: visible, not a flood
            LOG.warn("access log {}: write failed ({} failures so far)", target, n, ex);
        }
    }

    // ---- state ----

    /** Lines dropped because the queue was full (or the logger closed), since the start. */
    public long droppedLines() {
        return dropped.sum();
    }

    /** Lines formatted and handed to the output, since the start. */
    public long writtenLines() {
        return written.sum();
    }

    /** Lines waiting for the writer thread now. */
    public int queuedLines() {
        return queued.get();
    }

    /** Failed writes to the output (disk full, closed pipe), since the start. */
    public long writeErrors() {
        return writeErrors.sum();
    }

    /** Writes what is queued (waiting at most {@value #CLOSE_WAIT_SECONDS} s), flushes, and stops the writer. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        LockSupport.unpark(writer);
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_WAIT_SECONDS);
        while (writer.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                LOG.warn("access log {}: the writer did not finish within {} s; {} lines left unwritten",
                        target, CLOSE_WAIT_SECONDS, queued.get());
                writer.interrupt();
                break;
            }
            try {
                writer.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (!writer.isAlive()) {
            // offered while the writer was finishing: never to be written, so counted
            while (queue.poll() != null) {
                queued.decrementAndGet();
                dropped.increment();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "AccessLogger[" + target + ", sampling " + samplingPercent + "%, queue " + capacity + "]";
    }
}
