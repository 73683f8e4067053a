package io.meshproxy.core.config;

/**
 * A query parameter condition on the (URL-decoded) value; PRESENT ignores {@code value}.
 *
 * <p>Validated on construction: {@code name} is not blank, {@code kind} is set, {@code value} is required
 * except for PRESENT, and a REGEX value compiles.
 */
public record QueryParameterMatcher(String name, Kind kind, String value) {
    /** How a parameter value is compared. */
    public enum Kind { EXACT, PREFIX, REGEX, PRESENT }

    public QueryParameterMatcher {
        Checks.nonBlank("name", name);
        Checks.required("kind", kind);
        if (kind != Kind.PRESENT) {
            Checks.required("value", value);
            if (kind == Kind.REGEX) {
                Checks.regex("value", value);
            }
        }
    }

    public static QueryParameterMatcher exact(String name, String value) {
        return new QueryParameterMatcher(name, Kind.EXACT, value);
    }

    public static QueryParameterMatcher prefix(String name, String value) {
        return new QueryParameterMatcher(name, Kind.PREFIX, value);
    }

    public static QueryParameterMatcher regex(String name, String regex) {
        return new QueryParameterMatcher(name, Kind.REGEX, regex);
    }

    public static QueryParameterMatcher present(String name) {
        return new QueryParameterMatcher(name, Kind.PRESENT, null);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link QueryParameterMatcher}; {@code name} and {@code kind} are required. */
    public static final class Builder {
        private String name;
        private Kind kind;
        private String value;

        private Builder() {}

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder kind(Kind kind) {
            this.kind = kind;
            return this;
        }

        public Builder value(String value) {
            this.value = value;
            return this;
        }

        public QueryParameterMatcher build() {
            return new QueryParameterMatcher(name, kind, value);
        }
    }
}
