package io.meshproxy.core.testing;

import java.util.Map;
import java.util.TreeMap;

/** Counts where requests landed (by {@code x-upstream}) and answers shares in percentage points. */
public final class Tally {
    private final Map<String, Integer> counts = new TreeMap<>();
    private int total;

    /** Records one request that landed on {@code upstream} (null when the response had no x-upstream). */
    public void add(String upstream) {
        counts.merge(String.valueOf(upstream), 1, Integer::sum);
        total++;
    }

    public int count(String upstream) {
        return counts.getOrDefault(upstream, 0);
    }

    public int total() {
        return total;
    }

    /** The share of {@code upstream} in percent (0..100). */
    public double percent(String upstream) {
        return total == 0 ? 0 : 100.0 * count(upstream) / total;
    }

    public Map<String, Integer> counts() {
        return Map.copyOf(counts);
    }

    @Override
    public String toString() {
        return counts + " of " + total;
    }
}
