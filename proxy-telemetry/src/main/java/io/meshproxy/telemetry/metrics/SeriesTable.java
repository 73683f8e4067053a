package io.meshproxy.telemetry.metrics;

import java.util.function.LongFunction;

/**
 * A map from a packed {@code long} label key to its meters, read from every event loop without a lock or an
 * allocation: the table is an immutable open-addressing array published through a volatile field, and a new
 * label combination (rare, and bounded by the series cap) copies it under a lock. Reads see either the old or
 * the new array, both complete.
 *
 * @param <V> what is kept per label combination
 */
final class SeriesTable<V> {
    private static final class Table {
        final long[] keys;
        final Object[] values;
        final int size;

        Table(int capacity, int size) {
            keys = new long[capacity];
            values = new Object[capacity];
            this.size = size;
        }
    }

    private volatile Table table = new Table(16, 0);

    /** The value of {@code key}, or null. No lock, no allocation. */
    @SuppressWarnings("unchecked")
    V get(long key) {
        Table t = table;
        int mask = t.keys.length - 1;
        for (int i = mix(key) & mask; ; i = (i + 1) & mask) {
            Object v = t.values[i];
            if (v == null) {
                return null;
            }
            if (t.keys[i] == key) {
                return (V) v;
            }
        }
    }

    /**
     * The value of {@code key}, created by {@code create} if absent; {@code create} may return null (refused:
     * nothing is stored). Called only on a miss of {@link #get}.
     */
    @SuppressWarnings("unchecked")
    synchronized V computeIfAbsent(long key, LongFunction<V> create) {
        V existing = get(key);
        if (existing != null) {
            return existing;
        }
        V v = create.apply(key);
        if (v == null) {
            return null;
        }
        Table old = table;
        int capacity = old.keys.length;
        if ((old.size + 1) * 2 > capacity) {
            capacity *= 2;
        }
        Table t = new Table(capacity, old.size + 1);
        for (int i = 0; i < old.keys.length; i++) {
            if (old.values[i] != null) {
                put(t, old.keys[i], old.values[i]);
            }
        }
        put(t, key, v);
        table = t;
        return v;
    }

    /** Label combinations held. */
    int size() {
        return table.size;
    }

    /** A snapshot of the values, for tests and diagnostics. */
    @SuppressWarnings("unchecked")
    java.util.List<V> values() {
        Table t = table;
        java.util.List<V> out = new java.util.ArrayList<>(t.size);
        for (Object v : t.values) {
            if (v != null) {
                out.add((V) v);
            }
        }
        return out;
    }

    private static void put(Table t, long key, Object value) {
        int mask = t.keys.length - 1;
        int i = mix(key) & mask;
        while (t.values[i] != null) {
            i = (i + 1) & mask;
        }
        t.keys[i] = key;
        t.values[i] = value;
    }

    private static int mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
