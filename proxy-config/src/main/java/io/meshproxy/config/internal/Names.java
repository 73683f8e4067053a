package io.meshproxy.config.internal;

import java.util.Collection;
import java.util.Locale;

/** Did-you-mean suggestions for misspelt names. */
final class Names {
    private Names() {}

    /** The known name closest to {@code given} if it is a plausible typo of it, else null. */
    static String closest(String given, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String g = given.toLowerCase(Locale.ROOT);
        for (String k : known) {
            int d = distance(g, k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        // A typo changes a small part of a name: "subst" is "subset", but "v3" is not "v1".
        int allowed = Math.max(1, Math.min(3, given.length() / 3));
        return bestDistance <= allowed && 2 * bestDistance < given.length() ? best : null;
    }

    /** " (did you mean 'x'?)" or "". */
    static String suggestion(String given, Collection<String> known) {
        String c = closest(given, known);
        return c == null ? "" : " (did you mean '" + c + "'?)";
    }

    /** Damerau-Levenshtein distance (optimal string alignment): a swap of two letters counts once. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
