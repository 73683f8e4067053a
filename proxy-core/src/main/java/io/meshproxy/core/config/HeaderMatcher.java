package io.meshproxy.core.config;

/**
 * A header condition. PRESENT and ABSENT ignore {@code value}; REGEX must match the whole value.
 * {@code invert} negates the result, as Envoy's {@code invert_match}.
 *
 * <p>Validated on construction: {@code name} is not blank, {@code kind} is set, {@code value} is required
 * except for PRESENT and ABSENT, and a REGEX value compiles.
 */
public record HeaderMatcher(String name, Kind kind, String value, boolean invert) {
    /** How a header value is compared. */
    public enum Kind { EXACT, PREFIX, SUFFIX, REGEX, PRESENT, ABSENT }

    public HeaderMatcher {
        Checks.nonBlank("name", name);
        Checks.required("kind", kind);
        if (kind != Kind.PRESENT && kind != Kind.ABSENT) {
            Checks.required("value", value);
            if (kind == Kind.REGEX) {
                Checks.regex("value", value);
            }
        }
    }

    public static HeaderMatcher exact(String name, String value) {
        return new HeaderMatcher(name, Kind.EXACT, value, false);
    }

    public static HeaderMatcher prefix(String name, String value) {
        return new HeaderMatcher(name, Kind.PREFIX, value, false);
    }

    public static HeaderMatcher suffix(String name, String value) {
        return new HeaderMatcher(name, Kind.SUFFIX, value, false);
    }

    public static HeaderMatcher regex(String name, String regex) {
        return new HeaderMatcher(name, Kind.REGEX, regex, false);
    }

    public static HeaderMatcher present(String name) {
        return new HeaderMatcher(name, Kind.PRESENT, null, false);
    }

    public static HeaderMatcher absent(String name) {
        return new HeaderMatcher(name, Kind.ABSENT, null, false);
    }

    /** The same condition, negated. */
    public HeaderMatcher inverted() {
        return new HeaderMatcher(name, kind, value, !invert);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link HeaderMatcher}; {@code name} and {@code kind} are required. */
    public static final class Builder {
        private String name;
        private Kind kind;
        private String value;
        private boolean invert;

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

        public Builder invert(boolean invert) {
            this.invert = invert;
            return this;
        }

        public HeaderMatcher build() {
            return new HeaderMatcher(name, kind, value, invert);
        }
    }
}
