package io.meshproxy.benchmarks.harness;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Open-loop (constant-rate) HTTP load on a fixed number of connections, with latency corrected for coordinated
 * omission, in the manner of wrk2 and Nighthawk.
 *
 * <p>Request {@code i} (0-based) has the intended send time {@code start + i / rate} ({@link Schedule}); the
 * requests are dealt round-robin to the connections ({@code i mod connections}). A connection sends each of its
 * requests at its intended time — or, when it already carries as many requests as it can
 * ({@link Connection#maxInFlight()}: one for HTTP/1.1, many streams for HTTP/2), as soon as a response frees a
 * place. Latency is recorded <b>from the intended time</b> to the response, so a slow response is charged for
 * the requests it held up instead of hiding them (coordinated omission); the service time (from the actual
 * send) is recorded beside it, and so is how late each request left. A connection's sends and responses all run
 * on its own event loop; timing is {@link System#nanoTime()}, and the loop's own wake-up delay is part of the
 * latency (it is in the direct baseline too).
 *
 * <p>Bounded: {@code rate × duration} requests, then at most {@code duration + 10 s} of waiting; a request
 * still outstanding then, or never sent because its connection closed, is counted as unfinished.
 */
public final class OpenLoopLoad {
    /** The highest latency recorded, µs: a minute (a value above it is recorded as a minute). */
    public static final long HIGHEST_MICROS = TimeUnit.SECONDS.toMicros(60);
    private static final long START_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private OpenLoopLoad() {}

    /** What a response says, as far as the load cares. */
    public record Reply(int status, String upstream) {}

    /**
     * One connection of the load (or, for the in-process client, one virtual connection: a slot that carries
     * {@link #maxInFlight()} requests at a time). Called only on {@link #eventLoop()}; its futures complete there.
     */
    public interface Connection extends AutoCloseable {
        EventLoop eventLoop();

        /** Requests it may carry at once: 1 for HTTP/1.1 (no pipelining), the stream limit for HTTP/2. */
        int maxInFlight();

        /** Sends one request; the future completes on {@link #eventLoop()}, exceptionally if it failed. */
        CompletableFuture<Reply> send();

        /** False once the connection is closed: the rest of its share is not sent. */
        boolean isOpen();

        @Override
        void close();
    }

    /** Where the load goes: opens its connections. */
    public interface Target {
        /** A new connection on one of {@code group}'s event loops. */
        Connection connect(EventLoopGroup group) throws Exception;
    }

    /** The intended send times: request {@code i} at {@code startNanos + i × 10⁹ / rate}. */
    public record Schedule(long startNanos, int rate) {
        public long intended(long i) {
            return startNanos + (long) (i * (1e9 / rate));
        }
    }

    /** Latencies in microseconds. */
    public record Result(Histogram latency, Histogram serviceTime, Histogram lateness, long scheduled, long sent,
            long ok, long notOk, long errors, long wrongUpstream, long elapsedNanos, long firstSendNanos,
            long lastSendNanos) {
        public long unfinished() {
            return scheduled - ok - notOk - errors;
        }

        /** Responses (of any status) per second, from the first intended send time to the last response. */
        public double achievedRate() {
            return elapsedNanos <= 0 ? 0 : (ok + notOk) * 1e9 / elapsedNanos;
        }

        /** Latency at {@code percentile} (0..100), ms. */
        public double latencyMs(double percentile) {
            return latency.getValueAtPercentile(percentile) / 1000.0;
        }

        public String latencyMillis(double percentile) {
            return String.format(Locale.ROOT, "%.3f", latencyMs(percentile));
        }

        public String serviceMillis(double percentile) {
            return String.format(Locale.ROOT, "%.3f", serviceTime.getValueAtPercentile(percentile) / 1000.0);
        }

        /** How late requests left after their intended time: the generator's own delay plus queueing. */
        public String latenessMillis(double percentile) {
            return String.format(Locale.ROOT, "%.3f", lateness.getValueAtPercentile(percentile) / 1000.0);
        }

        /** This result and {@code other} as one: histograms added, counts summed, times added. */
        public Result plus(Result other) {
            Histogram l = latency.copy();
            l.add(other.latency);
            Histogram s = serviceTime.copy();
            s.add(other.serviceTime);
            Histogram late = lateness.copy();
            late.add(other.lateness);
            return new Result(l, s, late, scheduled + other.scheduled, sent + other.sent, ok + other.ok,
                    notOk + other.notOk, errors + other.errors, wrongUpstream + other.wrongUpstream,
                    elapsedNanos + other.elapsedNanos, Math.min(firstSendNanos, other.firstSendNanos),
                    Math.max(lastSendNanos, other.lastSendNanos));
        }
    }

    /** HTTP/1.1 {@code GET path} with {@code Host: authority} to {@code 127.0.0.1:port}: as it always was. */
    public static Result run(EventLoopGroup group, int port, String authority, String path, int connections, int rate,
            Duration duration, String expectUpstream) throws InterruptedException {
        return run(group, Targets.http1(port, authority, path, 0), connections, rate, duration, expectUpstream);
    }

    /**
     * Runs {@code rate × duration} requests to {@code target} over {@code connections} connections opened on
     * {@code group}.
     *
     * @param expectUpstream when not null, a 200 response whose {@code x-upstream} differs is counted as
     *     {@link Result#wrongUpstream()}
     */
    public static Result run(EventLoopGroup group, Target target, int connections, int rate, Duration duration,
            String expectUpstream) throws InterruptedException {
        if (rate < 1 || connections < 1) {
            throw new IllegalArgumentException("rate and connections must be at least 1: " + rate + ", " + connections);
        }
        long total = Math.max(1, (long) rate * duration.toMillis() / 1000);
        List<Driver> drivers = new ArrayList<>();
        try {
            for (int c = 0; c < connections; c++) {
                Connection connection;
                try {
                    connection = target.connect(group);
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException("cannot connect to the load's target: " + e, e);
                }
                drivers.add(new Driver(connection, c, connections, total, expectUpstream));
            }
            CountDownLatch done = new CountDownLatch(drivers.size());
            Schedule schedule = new Schedule(System.nanoTime() + START_DELAY_NANOS, rate);
            for (Driver d : drivers) {
                d.start(schedule, done);
            }
            long waitMillis = duration.toMillis() + 10_000;
            boolean finished = done.await(waitMillis, TimeUnit.MILLISECONDS);
            if (!finished) {
                System.err.println("open-loop load: still waiting for responses " + waitMillis
                        + " ms after the start; counted as unfinished");
            }
            return collect(drivers, schedule, total);
        } finally {
            for (Driver d : drivers) {
                d.stopped = true;
                d.connection.close();
            }
        }
    }

    private static Result collect(List<Driver> drivers, Schedule schedule, long total) {
        Histogram latency = new Histogram(HIGHEST_MICROS, 3);
        Histogram service = new Histogram(HIGHEST_MICROS, 3);
        Histogram late = new Histogram(HIGHEST_MICROS, 3);
        long sent = 0;
        long ok = 0;
        long notOk = 0;
        long errors = 0;
        long wrong = 0;
        long last = schedule.startNanos();
        long firstSend = Long.MAX_VALUE;
        long lastSend = Long.MIN_VALUE;
        for (Driver d : drivers) {
            // Read each driver's state on its own loop: it is confined there.
            Driver.Snapshot s;
            try {
                s = d.connection.eventLoop().submit(d::snapshot).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("cannot read the load's results", e);
            }
            latency.add(s.latency());
            service.add(s.service());
            late.add(s.lateness());
            sent += s.sent();
            ok += s.ok();
            notOk += s.notOk();
            errors += s.errors();
            wrong += s.wrongUpstream();
            last = Math.max(last, s.lastResponseNanos());
            if (s.sent() > 0) {
                firstSend = Math.min(firstSend, s.firstSendNanos());
                lastSend = Math.max(lastSend, s.lastSendNanos());
            }
        }
        if (sent == 0) {
            firstSend = lastSend = schedule.startNanos();
        }
        return new Result(latency, service, late, total, sent, ok, notOk, errors, wrong, last - schedule.startNanos(),
                firstSend, lastSend);
    }

    /** One connection's share of the schedule: requests c, c + n, c + 2n, ... Confined to its event loop. */
    private static final class Driver {
        record Snapshot(Histogram latency, Histogram service, Histogram lateness, long sent, long ok, long notOk,
                long errors, long wrongUpstream, long lastResponseNanos, long firstSendNanos, long lastSendNanos) {}

        final Connection connection;
        private final long total;
        private final int step;
        private final int maxInFlight;
        private final String expectUpstream;
        private final Histogram latency = new Histogram(HIGHEST_MICROS, 3);
        private final Histogram service = new Histogram(HIGHEST_MICROS, 3);
        private final Histogram lateness = new Histogram(HIGHEST_MICROS, 3);
        private long next;
        private Schedule schedule;
        private CountDownLatch done;
        private boolean finished;
        /** The next send waits for a response to free a place. */
        private boolean blocked;
        /** A send is scheduled on a timer and has not run yet. */
        private boolean timerPending;
        private int inFlight;
        private long sent;
        private long ok;
        private long notOk;
        private long errors;
        private long wrongUpstream;
        private long lastResponse;
        private long firstSend;
        private long lastSend;
        volatile boolean stopped;

        Driver(Connection connection, int first, int step, long total, String expectUpstream) {
            this.connection = connection;
            this.next = first;
            this.step = step;
            this.total = total;
            this.maxInFlight = Math.max(1, connection.maxInFlight());
            this.expectUpstream = expectUpstream;
        }

        void start(Schedule s, CountDownLatch doneLatch) {
            connection.eventLoop().execute(() -> {
                this.schedule = s;
                this.done = doneLatch;
                this.lastResponse = s.startNanos();
                scheduleNext();
            });
        }

        private void scheduleNext() {
            if (next >= total || stopped || !connection.isOpen()) {
                if (inFlight == 0) {
                    finish();
                }
                return;
            }
            if (inFlight >= maxInFlight) {
                blocked = true;
                return;
            }
            long i = next;
            next += step;
            long intended = schedule.intended(i);
            long delay = intended - System.nanoTime();
            if (delay > 0) {
                timerPending = true;
                connection.eventLoop().schedule(() -> send(intended), delay, TimeUnit.NANOSECONDS);
            } else {
                send(intended);
            }
        }

        private void send(long intended) {
            timerPending = false;
            if (stopped) {
                finish();
                return;
            }
            long sentAt = System.nanoTime();
            if (sent == 0) {
                firstSend = sentAt;
            }
            lastSend = sentAt;
            sent++;
            inFlight++;
            lateness.recordValue(Math.max(0, Math.min(HIGHEST_MICROS, (sentAt - intended) / 1000)));
            connection.send().whenComplete((r, failure) -> onResponse(intended, sentAt, r, failure));
            scheduleNext();
        }

        private void onResponse(long intended, long sentAt, Reply r, Throwable failure) {
            long now = System.nanoTime();
            inFlight--;
            if (failure != null) {
                errors++;
            } else {
                lastResponse = now;
                latency.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, now - intended) / 1000));
                service.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, now - sentAt) / 1000));
                if (r.status() == 200) {
                    ok++;
                    if (expectUpstream != null && !expectUpstream.equals(r.upstream())) {
                        wrongUpstream++;
                    }
                } else {
                    notOk++;
                }
            }
            if (blocked) {
                blocked = false;
                scheduleNext();
            } else if (inFlight == 0 && !timerPending && (next >= total || stopped || !connection.isOpen())) {
                finish();
            }
        }

        private void finish() {
            if (!finished) {
                finished = true;
                done.countDown();
            }
        }

        Snapshot snapshot() {
            return new Snapshot(latency.copy(), service.copy(), lateness.copy(), sent, ok, notOk, errors, wrongUpstream,
                    lastResponse, firstSend, lastSend);
        }
    }
}
