package io.meshproxy.telemetry.metrics;

import io.meshproxy.telemetry.WorkloadInfo;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Peer principals interned as small numbers, so that a principal can be one more field of a series' packed
 * {@code long} key: the hot path looks a principal up (a {@link ConcurrentHashMap} read with the string the
 * connection already holds, its hash cached by {@link String}) and never builds a label string. Index 0 is
 * "no principal" ({@code unknown}); a principal is added once, with its SPIFFE URI made then. The table is
 * bounded: past {@link #capacity()} principals a new one is refused (-1) and the caller counts the request as
 * dropped, as the series cap does.
 */
final class PrincipalTable {
    /** Bits the index takes in a series key. */
    static final int BITS = 12;
    static final int MAX_CAPACITY = (1 << BITS) - 1;

    private final ConcurrentHashMap<String, Integer> indexes = new ConcurrentHashMap<>();
    private final String[] uris;
    private int size;

    PrincipalTable(int capacity) {
        this.uris = new String[Math.min(Math.max(capacity, 1), MAX_CAPACITY) + 1];
        uris[0] = WorkloadInfo.UNKNOWN;
    }

    /** The index of {@code principal} (Istio's form, from proxy-core): 0 for null, -1 when the table is full. */
    int indexOf(String principal) {
        if (principal == null) {
            return 0;
        }
        Integer i = indexes.get(principal);
        return i != null ? i : add(principal);
    }

    private synchronized int add(String principal) {
        Integer i = indexes.get(principal);
        if (i != null) {
            return i;
        }
        if (size + 1 >= uris.length) {
            return -1;
        }
        int index = ++size;
        uris[index] = WorkloadInfo.spiffeUri(principal);
        indexes.put(principal, index); // published after its URI: a reader that finds the index finds the URI
        return index;
    }

    /** The SPIFFE URI of {@code index} ({@code unknown} for 0). */
    String uri(int index) {
        return uris[index];
    }

    /** The most principals held. */
    int capacity() {
        return uris.length - 1;
    }

    /** Principals held. */
    synchronized int size() {
        return size;
    }
}
