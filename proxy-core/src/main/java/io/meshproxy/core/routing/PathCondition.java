package io.meshproxy.core.routing;

import io.meshproxy.core.config.PathMatch;
import java.util.regex.Pattern;

/**
 * A compiled {@link PathMatch}, tested against the path without its query string. PREFIX is a plain string
 * prefix, as in Envoy ({@code /api} takes {@code /apis} too); REGEX must match the whole path. Immutable.
 */
final class PathCondition {

    private final PathMatch.Kind kind;
    private final String value;
    private final boolean ignoreCase;
    private final Pattern pattern;

    PathCondition(PathMatch config) {
        this.kind = config.kind();
        this.value = config.value();
        this.ignoreCase = config.ignoreCase();
        this.pattern = kind == PathMatch.Kind.REGEX
                ? Pattern.compile(value, ignoreCase ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0)
                : null;
    }

    /** Whether {@code path[0, pathEnd)} satisfies the condition; allocates only for REGEX (the matcher). */
    boolean matches(String path, int pathEnd) {
        switch (kind) {
            case EXACT:
                return pathEnd == value.length() && path.regionMatches(ignoreCase, 0, value, 0, pathEnd);
            case PREFIX:
                return pathEnd >= value.length() && path.regionMatches(ignoreCase, 0, value, 0, value.length());
            case REGEX:
                return pattern.matcher(path).region(0, pathEnd).matches();
            default:
                throw new AssertionError(kind);
        }
    }

    /**
     * The length of the part of the path that {@link #matches} took as "the matched prefix": the prefix of a
     * PREFIX match or the whole path of an EXACT match; -1 for REGEX, which has no prefix to rewrite.
     */
    int matchedPrefixLength() {
        return kind == PathMatch.Kind.REGEX ? -1 : value.length();
    }

    /** Whether {@code path} still starts with the matched prefix (a filter may have changed it since matching). */
    boolean startsWithMatchedPrefix(String path) {
        int length = matchedPrefixLength();
        return length >= 0 && path.regionMatches(ignoreCase, 0, value, 0, length);
    }
}
