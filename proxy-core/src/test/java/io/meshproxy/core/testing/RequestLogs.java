package io.meshproxy.core.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.filter.RequestLogListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Collects the {@link RequestLog}s of a proxy. A log is emitted when the exchange finishes, which may be
 * after the client has its response, so tests wait for it with a bounded {@link #await}.
 */
public final class RequestLogs implements RequestLogListener {
    private final LinkedBlockingQueue<RequestLog> queue = new LinkedBlockingQueue<>();
    private final List<RequestLog> seen = new ArrayList<>();

    @Override
    public void onRequestComplete(RequestLog log) {
        queue.add(log);
    }

    /** The first log (seen earlier or arriving within 5 s) matching {@code p}; fails the test otherwise. */
    public synchronized RequestLog await(Predicate<RequestLog> p) throws InterruptedException {
        for (RequestLog l : seen) {
            if (p.test(l)) {
                seen.remove(l);
                return l;
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            RequestLog l = left <= 0 ? null : queue.poll(left, TimeUnit.NANOSECONDS);
            if (l == null) {
                fail("no request log matched within 5 s; logs seen: " + seen);
            }
            if (p.test(l)) {
                return l;
            }
            seen.add(l);
        }
    }

    /** The first log for a request whose path starts with {@code pathPrefix}. */
    public RequestLog awaitPath(String pathPrefix) throws InterruptedException {
        return await(l -> l.path() != null && l.path().startsWith(pathPrefix));
    }
}
