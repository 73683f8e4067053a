package io.meshproxy.benchmarks;

import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Open-loop (constant-rate) HTTP/1.1 load on a few keep-alive connections, with latency corrected for
 * coordinated omission, in the manner of wrk2.
 *
 * <p>Request {@code i} (0-based) has the intended send time {@code start + i / rate}; the requests are dealt
 * round-robin to the connections ({@code i mod connections}), each connection carrying one request at a time.
 * A connection sends its next request at its intended time, or at once when the previous response came back
 * late. Latency is recorded <b>from the intended time</b> to the response, so a slow response is charged for
 * the requests it held up instead of hiding them (coordinated omission); the service time (from the actual
 * send) is recorded beside it. A connection's sends and receives all run on its own event loop; timing is
 * {@link System#nanoTime()}, and the loop's own wake-up delay is part of the latency (it is in the direct
 * baseline too).
 *
 * <p>Bounded: {@code rate × duration} requests, then at most {@code duration + 10 s} of waiting; a request
 * still outstanding then, or never sent because its connection failed, is counted as unfinished.
 */
final class OpenLoopLoad {
    private static final long HIGHEST_MICROS = TimeUnit.SECONDS.toMicros(60);

    /** Latencies in microseconds. */
    record Result(Histogram latency, Histogram serviceTime, Histogram lateness, long scheduled, long sent, long ok, long notOk,
            long errors, long wrongUpstream, long elapsedNanos) {
        long unfinished() {
            return scheduled - ok - notOk - errors;
        }

        /** Responses (of any status) per second, from the first intended send time to the last response. */
        double achievedRate() {
            return elapsedNanos <= 0 ? 0 : (ok + notOk) * 1e9 / elapsedNanos;
        }

        String latencyMillis(double percentile) {
            return String.format(Locale.ROOT, "%.3f", latency.getValueAtPercentile(percentile) / 1000.0);
        }

        String serviceMillis(double percentile) {
            return String.format(Locale.ROOT, "%.3f", serviceTime.getValueAtPercentile(percentile) / 1000.0);
        }

        /** How late requests left after their intended time: the generator's own delay plus queueing. */
        String latenessMillis(double percentile) {
            return String.format(Locale.ROOT, "%.3f", lateness.getValueAtPercentile(percentile) / 1000.0);
        }
    }

    private OpenLoopLoad() {}

    /**
     * Runs the load against {@code 127.0.0.1:port} with {@code Host: authority}, {@code GET path}.
     *
     * @param expectUpstream when not null, a 200 response whose {@code x-upstream} differs is counted as
     *     {@link Result#wrongUpstream()}
     */
    static Result run(EventLoopGroup group, int port, String authority, String path, int connections, int rate,
            Duration duration, String expectUpstream) throws InterruptedException {
        long total = Math.max(1, (long) rate * duration.toMillis() / 1000);
        List<Driver> drivers = new ArrayList<>();
        try {
            for (int c = 0; c < connections; c++) {
                drivers.add(new Driver(new KeepAliveClient(group, port, authority), c, connections, total, rate, path,
                        expectUpstream));
            }
            CountDownLatch done = new CountDownLatch(drivers.size());
            long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
            for (Driver d : drivers) {
                d.start(start, done);
            }
            boolean finished = done.await(duration.toMillis() + 10_000, TimeUnit.MILLISECONDS);
            Histogram latency = new Histogram(HIGHEST_MICROS, 3);
            Histogram service = new Histogram(HIGHEST_MICROS, 3);
            Histogram late = new Histogram(HIGHEST_MICROS, 3);
            long sent = 0;
            long ok = 0;
            long notOk = 0;
            long errors = 0;
            long wrong = 0;
            long last = start;
            for (Driver d : drivers) {
                // Read each driver's state on its own loop: it is confined there.
                Driver.Snapshot s;
                try {
                    s = d.client.eventLoop().submit(d::snapshot).get(5, TimeUnit.SECONDS);
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
            }
            if (!finished) {
                System.err.println("open-loop load: still waiting for responses " + (duration.toMillis() + 10_000)
                        + " ms after the start; counted as unfinished");
            }
            return new Result(latency, service, late, total, sent, ok, notOk, errors, wrong, last - start);
        } finally {
            for (Driver d : drivers) {
                d.stopped = true;
                d.client.close();
            }
        }
    }

    /** One connection's share of the schedule: requests c, c + n, c + 2n, ... Confined to its event loop. */
    private static final class Driver {
        record Snapshot(Histogram latency, Histogram service, Histogram lateness, long sent, long ok, long notOk, long errors,
                long wrongUpstream, long lastResponseNanos) {}

        final KeepAliveClient client;
        private final long total;
        private final int step;
        private final double nanosPerRequest;
        private final String path;
        private final String expectUpstream;
        private final Histogram latency = new Histogram(HIGHEST_MICROS, 3);
        private final Histogram service = new Histogram(HIGHEST_MICROS, 3);
        private final Histogram lateness = new Histogram(HIGHEST_MICROS, 3);
        private long next;
        private long start;
        private CountDownLatch done;
        private boolean finished;
        private long sent;
        private long ok;
        private long notOk;
        private long errors;
        private long wrongUpstream;
        private long lastResponse;
        volatile boolean stopped;

        Driver(KeepAliveClient client, int first, int step, long total, int rate, String path, String expectUpstream) {
            this.client = client;
            this.next = first;
            this.step = step;
            this.total = total;
            this.nanosPerRequest = 1e9 / rate;
            this.path = path;
            this.expectUpstream = expectUpstream;
        }

        void start(long startNanos, CountDownLatch doneLatch) {
            client.eventLoop().execute(() -> {
                this.start = startNanos;
                this.done = doneLatch;
                this.lastResponse = startNanos;
                scheduleNext();
            });
        }

        private void scheduleNext() {
            if (next >= total || stopped) {
                finish();
                return;
            }
            long i = next;
            next += step;
            long intended = start + (long) (i * nanosPerRequest);
            long delay = intended - System.nanoTime();
            if (delay > 0) {
                client.eventLoop().schedule(() -> send(intended), delay, TimeUnit.NANOSECONDS);
            } else {
                send(intended);
            }
        }

        private void send(long intended) {
            if (stopped) {
                finish();
                return;
            }
            long sentAt = System.nanoTime();
            sent++;
            lateness.recordValue(Math.max(0, Math.min(HIGHEST_MICROS, (sentAt - intended) / 1000)));
            client.get(path).whenComplete((r, failure) -> {
                long now = System.nanoTime();
                if (failure != null) {
                    errors++; // the connection is gone: the rest of this share is never sent
                    finish();
                    return;
                }
                lastResponse = now;
                latency.recordValue(Math.min(HIGHEST_MICROS, (now - intended) / 1000));
                service.recordValue(Math.min(HIGHEST_MICROS, (now - sentAt) / 1000));
                if (r.status() == 200) {
                    ok++;
                    if (expectUpstream != null && !expectUpstream.equals(r.upstream())) {
                        wrongUpstream++;
                    }
                } else {
                    notOk++;
                }
                scheduleNext();
            });
        }

        private void finish() {
            if (!finished) {
                finished = true;
                done.countDown();
            }
        }

        Snapshot snapshot() {
            return new Snapshot(latency.copy(), service.copy(), lateness.copy(), sent, ok, notOk, errors, wrongUpstream, lastResponse);
        }
    }
}
