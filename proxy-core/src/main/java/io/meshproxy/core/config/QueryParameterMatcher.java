package io.meshproxy.core.config;

/** A query parameter condition on the (URL-decoded) value; PRESENT ignores {@code value}. */
public record QueryParameterMatcher(String name, Kind kind, String value) {
    public enum Kind { EXACT, PREFIX, REGEX, PRESENT }
}
