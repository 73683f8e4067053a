package io.meshproxy.telemetry.metrics;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy's listener TLS statistics, per listener: {@code ssl.handshake} (handshakes completed, full or resumed),
 * {@code ssl.session_reused} (of those, resumed ones) and {@code ssl.connection_error} (handshakes failed: a
 * plaintext client on a STRICT port, a missing or refused client certificate, a timeout). Exported as
 * {@code envoy_listener_ssl_handshake{listener_name="inbound"}} on {@code /stats/prometheus} and as
 * {@code listener.inbound.ssl.handshake: N} on {@code /stats}. A listener appears with its first handshake;
 * listener names come from configuration, and at most {@code maxListeners} are tracked.
 */
final class ListenerSslStats {
    private static final String[] STATS = {"ssl.handshake", "ssl.session_reused", "ssl.connection_error"};

    private final ConcurrentHashMap<String, Counters> byListener = new ConcurrentHashMap<>();
    private final boolean[] kept = new boolean[STATS.length];
    private final int maxListeners;

    ListenerSslStats(StatsMatcher matcher, int maxListeners) {
        for (int i = 0; i < STATS.length; i++) {
            kept[i] = matcher.keeps(prometheusName(STATS[i]));
        }
        this.maxListeners = maxListeners;
    }

    private static final class Counters {
        final LongAdder[] values = {new LongAdder(), new LongAdder(), new LongAdder()};
    }

    /** A handshake on {@code listener} completed. Event loop: a map read and one or two adds. */
    void handshake(String listener, boolean resumed) {
        Counters c = counters(listener);
        if (c != null) {
            c.values[0].increment();
            if (resumed) {
                c.values[1].increment();
            }
        }
    }

    /** A handshake on {@code listener} failed. */
    void connectionError(String listener) {
        Counters c = counters(listener);
        if (c != null) {
            c.values[2].increment();
        }
    }

    private Counters counters(String listener) {
        if (listener == null) {
            return null;
        }
        Counters c = byListener.get(listener);
        if (c == null && byListener.size() < maxListeners) {
            c = byListener.computeIfAbsent(listener, l -> new Counters());
        }
        return c;
    }

    /** The value of {@code stat} ({@code ssl.handshake}, ...) of {@code listener}; 0 when never seen. */
    long value(String listener, String stat) {
        Counters c = byListener.get(listener);
        if (c == null) {
            return 0;
        }
        for (int i = 0; i < STATS.length; i++) {
            if (STATS[i].equals(stat)) {
                return c.values[i].sum();
            }
        }
        throw new IllegalArgumentException("no listener statistic " + stat);
    }

    private static String prometheusName(String stat) {
        return "envoy_listener_" + stat.replace('.', '_');
    }

    /** Appends the families in Prometheus text format 0.0.4 (Envoy's counters keep their names, no {@code _total}). */
    void writePrometheus(StringBuilder out) {
        Map<String, Counters> sorted = new TreeMap<>(byListener);
        if (sorted.isEmpty()) {
            return;
        }
        for (int i = 0; i < STATS.length; i++) {
            if (!kept[i]) {
                continue;
            }
            String name = prometheusName(STATS[i]);
            out.append("# TYPE ").append(name).append(" counter\n");
            for (Map.Entry<String, Counters> e : sorted.entrySet()) {
                out.append(name).append("{listener_name=\"");
                ClusterStatsExposition.escape(e.getKey(), out);
                out.append("\"} ").append(e.getValue().values[i].sum()).append('\n');
            }
        }
    }

    /** Adds Envoy's {@code /stats} lines: {@code listener.<name>.ssl.handshake: value}. */
    void writePlain(List<String> lines) {
        for (Map.Entry<String, Counters> e : byListener.entrySet()) {
            for (int i = 0; i < STATS.length; i++) {
                if (kept[i]) {
                    lines.add("listener." + e.getKey() + "." + STATS[i] + ": " + e.getValue().values[i].sum());
                }
            }
        }
    }
}
