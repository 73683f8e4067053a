package io.meshproxy.core.config;

/**
 * A header condition. PRESENT and ABSENT ignore {@code value}; REGEX must match the whole value.
 * {@code invert} negates the result, as Envoy's {@code invert_match}.
 */
public record HeaderMatcher(String name, Kind kind, String value, boolean invert) {
    public enum Kind { EXACT, PREFIX, SUFFIX, REGEX, PRESENT, ABSENT }
}
