package io.meshproxy.core.routing;

import io.meshproxy.core.config.QueryParameterMatcher;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * A compiled {@link QueryParameterMatcher}. The query string ({@code a=1&b=2} after the first '?') is
 * scanned in place for the first parameter of the name; names and values are URL-decoded (UTF-8, '+' is a
 * space) only when they contain an escape, and a parameter without '=' has the value "". REGEX must match
 * the whole decoded value. Immutable.
 */
final class QueryParameterCondition {

    private final String name;
    private final QueryParameterMatcher.Kind kind;
    private final String value;
    private final Pattern pattern;

    QueryParameterCondition(QueryParameterMatcher config) {
        this.name = config.name();
        this.kind = config.kind();
        this.value = config.value();
        this.pattern = kind == QueryParameterMatcher.Kind.REGEX ? Pattern.compile(value) : null;
    }

    /** Whether the query of {@code path} (which starts after {@code pathEnd}) satisfies the condition. */
    boolean matches(String path, int pathEnd) {
        String actual = firstValue(path, pathEnd + 1, name);
        if (actual == null) {
            return false;
        }
        switch (kind) {
            case PRESENT:
                return true;
            case EXACT:
                return actual.equals(value);
            case PREFIX:
                return actual.startsWith(value);
            case REGEX:
                return pattern.matcher(actual).matches();
            default:
                throw new AssertionError(kind);
        }
    }

    /** The decoded first value of parameter {@code name} in {@code path[from..]}, or null when absent. */
    static String firstValue(String path, int from, String name) {
        int end = path.length();
        int start = from;
        while (start < end) {
            int amp = path.indexOf('&', start);
            if (amp < 0) {
                amp = end;
            }
            if (amp > start) {
                int eq = path.indexOf('=', start);
                int nameEnd = eq < 0 || eq > amp ? amp : eq;
                if (nameEquals(path, start, nameEnd, name)) {
                    return nameEnd == amp ? "" : decode(path, nameEnd + 1, amp);
                }
            }
            start = amp + 1;
        }
        return null;
    }

    private static boolean nameEquals(String path, int start, int end, String name) {
        if (needsDecoding(path, start, end)) {
            return decode(path, start, end).equals(name);
        }
        return end - start == name.length() && path.regionMatches(start, name, 0, name.length());
    }

    private static boolean needsDecoding(String s, int start, int end) {
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (c == '%' || c == '+') {
                return true;
            }
        }
        return false;
    }

    private static String decode(String s, int start, int end) {
        String raw = s.substring(start, end);
        if (!needsDecoding(raw, 0, raw.length())) {
            return raw;
        }
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return raw; // a broken escape: compare the text as sent rather than fail the request
        }
    }
}
