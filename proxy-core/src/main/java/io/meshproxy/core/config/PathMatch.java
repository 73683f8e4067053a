package io.meshproxy.core.config;

/** A path condition: exact, prefix or a full-match regular expression, optionally case-insensitive. */
public record PathMatch(Kind kind, String value, boolean ignoreCase) {
    public enum Kind { EXACT, PREFIX, REGEX }
}
