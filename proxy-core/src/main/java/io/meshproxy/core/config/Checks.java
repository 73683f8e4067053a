package io.meshproxy.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The field checks the config records run in their compact constructors. Each failure is a
 * {@link ConfigException} whose message is {@code field: reason}.
 */
final class Checks {
    private Checks() {}

    static ConfigException fail(String field, String reason) {
        return new ConfigException(field + ": " + reason);
    }

    static <T> T required(String field, T value) {
        if (value == null) {
            throw fail(field, "is required");
        }
        return value;
    }

    /** A required, non-blank string. */
    static String nonBlank(String field, String value) {
        required(field, value);
        if (value.isBlank()) {
            throw fail(field, "must not be blank");
        }
        return value;
    }

    /** An optional string: null, or not blank. */
    static String nullOrNonBlank(String field, String value) {
        if (value != null && value.isBlank()) {
            throw fail(field, "must not be blank when set");
        }
        return value;
    }

    static long inRange(String field, long value, long min, long max) {
        if (value < min || value > max) {
            throw fail(field, "must be in " + min + ".." + max + ", was " + value);
        }
        return value;
    }

    static long atLeast(String field, long value, long min) {
        if (value < min) {
            throw fail(field, "must be at least " + min + ", was " + value);
        }
        return value;
    }

    /** A non-negative duration; null means {@code defaultValue}. */
    static Duration duration(String field, Duration value, Duration defaultValue) {
        if (value == null) {
            return defaultValue;
        }
        if (value.isNegative()) {
            throw fail(field, "must not be negative, was " + ConfigJson.formatDuration(value));
        }
        return value;
    }

    /** An immutable copy; null means empty; a null element is an error naming its index. */
    static <T> List<T> list(String field, List<T> value) {
        if (value == null) {
            return List.of();
        }
        for (int i = 0; i < value.size(); i++) {
            if (value.get(i) == null) {
                throw fail(field + "[" + i + "]", "must not be null");
            }
        }
        return List.copyOf(value);
    }

    /** An immutable copy of a label map; null means empty; keys non-blank, values non-null. */
    static Map<String, String> labels(String field, Map<String, String> value) {
        if (value == null) {
            return Map.of();
        }
        for (Map.Entry<String, String> e : value.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank()) {
                throw fail(field, "label names must not be blank");
            }
            if (e.getValue() == null) {
                throw fail(field + "." + e.getKey(), "label value must not be null");
            }
        }
        return Map.copyOf(value);
    }

    /** Compiles {@code regex}, reporting a syntax error as {@code field: invalid regex '...': reason}. */
    static Pattern regex(String field, String regex) {
        required(field, regex);
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            String where = e.getIndex() >= 0 ? " near index " + e.getIndex() : "";
            throw fail(field, "invalid regex '" + regex + "': " + e.getDescription() + where);
        }
    }

    /**
     * Runs {@code construction} (typically a child record's constructor inside a builder adder) and
     * prefixes every error it reports with {@code prefix}, so that, say, {@code port: ...} becomes
     * {@code endpoints[1].port: ...}.
     */
    static <T> T prefixed(String prefix, Supplier<T> construction) {
        try {
            return construction.get();
        } catch (ConfigException e) {
            List<String> errors = new ArrayList<>(e.errors().size());
            for (String error : e.errors()) {
                errors.add(prefix + "." + error);
            }
            throw new ConfigException(errors);
        }
    }
}
