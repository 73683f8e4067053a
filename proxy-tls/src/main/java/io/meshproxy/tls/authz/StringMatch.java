package io.meshproxy.tls.authz;

/**
 * One value of an authorization policy field compiled to Istio's string match: exact ({@code abc}), prefix
 * ({@code abc*}), suffix ({@code *abc}) or presence ({@code *}). Compiled once; matching allocates nothing.
 */
final class StringMatch {
    private enum Kind { EXACT, PREFIX, SUFFIX, PRESENCE }

    private final Kind kind;
    private final String text;
    private final boolean ignoreCase;

    private StringMatch(Kind kind, String text, boolean ignoreCase) {
        this.kind = kind;
        this.text = text;
        this.ignoreCase = ignoreCase;
    }

    /** @param ignoreCase true for hosts (Istio matches {@code hosts} case-insensitively) */
    static StringMatch compile(String value, boolean ignoreCase) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("an empty value matches nothing; Istio rejects it");
        }
        if (value.equals("*")) {
            return new StringMatch(Kind.PRESENCE, "", ignoreCase);
        }
        if (value.length() > 1 && value.endsWith("*") && !value.startsWith("*")) {
            return new StringMatch(Kind.PREFIX, value.substring(0, value.length() - 1), ignoreCase);
        }
        if (value.startsWith("*") && !value.endsWith("*")) {
            return new StringMatch(Kind.SUFFIX, value.substring(1), ignoreCase);
        }
        if (value.indexOf('*') >= 0) {
            throw new IllegalArgumentException("'" + value + "': '*' may only stand at the start or the end");
        }
        return new StringMatch(Kind.EXACT, value, ignoreCase);
    }

    /** Whether {@code value} matches; a null value (the attribute is absent) matches nothing, not even '*'. */
    boolean matches(String value) {
        if (value == null) {
            return false;
        }
        switch (kind) {
            case PRESENCE:
                return true;
            case EXACT:
                return ignoreCase ? value.equalsIgnoreCase(text) : value.equals(text);
            case PREFIX:
                return value.regionMatches(ignoreCase, 0, text, 0, text.length());
            case SUFFIX:
                return value.regionMatches(ignoreCase, value.length() - text.length(), text, 0, text.length());
            default:
                throw new AssertionError(kind);
        }
    }

    /** Whether any of {@code matchers} matches {@code value}. */
    static boolean any(StringMatch[] matchers, String value) {
        for (StringMatch m : matchers) {
            if (m.matches(value)) {
                return true;
            }
        }
        return false;
    }

    static StringMatch[] compileAll(java.util.List<String> values, boolean ignoreCase, String field) {
        StringMatch[] out = new StringMatch[values.size()];
        for (int i = 0; i < out.length; i++) {
            try {
                out[i] = compile(values.get(i), ignoreCase);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(field + "[" + i + "]: " + e.getMessage(), e);
            }
        }
        return out;
    }
}
