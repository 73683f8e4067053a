package io.meshproxy.core.config;

/**
 * A path condition: exact, prefix or a full-match regular expression, optionally case-insensitive.
 *
 * <p>Validated on construction: {@code kind} and {@code value} are required; an EXACT or PREFIX value starts
 * with {@code /}; a REGEX value compiles ({@link java.util.regex.Pattern} syntax).
 *
 * @param kind how {@code value} is compared with the request path
 * @param value the path, prefix or regular expression
 * @param ignoreCase compare case-insensitively
 */
public record PathMatch(Kind kind, String value, boolean ignoreCase) {
    /** How a path is compared. */
    public enum Kind { EXACT, PREFIX, REGEX }

    /** Every path ({@code PREFIX "/"}): the default of {@link RouteMatch#path()}. */
    public static final PathMatch ANY = new PathMatch(Kind.PREFIX, "/", false);

    public PathMatch {
        Checks.required("kind", kind);
        Checks.required("value", value);
        if (kind == Kind.REGEX) {
            Checks.regex("value", value);
        } else if (!value.startsWith("/")) {
            throw Checks.fail("value", "a " + kind + " path must start with '/', was '" + value + "'");
        }
    }

    /** The path equals {@code path}. */
    public static PathMatch exact(String path) {
        return new PathMatch(Kind.EXACT, path, false);
    }

    /** The path starts with {@code prefix}. */
    public static PathMatch prefix(String prefix) {
        return new PathMatch(Kind.PREFIX, prefix, false);
    }

    /** The whole path matches {@code regex}. */
    public static PathMatch regex(String regex) {
        return new PathMatch(Kind.REGEX, regex, false);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link PathMatch}; {@code kind} and {@code value} are required. */
    public static final class Builder {
        private Kind kind;
        private String value;
        private boolean ignoreCase;

        private Builder() {}

        public Builder kind(Kind kind) {
            this.kind = kind;
            return this;
        }

        public Builder value(String value) {
            this.value = value;
            return this;
        }

        public Builder ignoreCase(boolean ignoreCase) {
            this.ignoreCase = ignoreCase;
            return this;
        }

        public PathMatch build() {
            return new PathMatch(kind, value, ignoreCase);
        }
    }
}
