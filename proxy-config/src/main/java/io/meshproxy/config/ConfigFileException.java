package io.meshproxy.config;

import java.util.List;

/** Configuration files that cannot be used, with every error found in all of them, sorted by place. */
public final class ConfigFileException extends Exception {
    private final transient List<ConfigError> errors;

    public ConfigFileException(List<ConfigError> errors) {
        super(summary(errors));
        this.errors = List.copyOf(errors);
    }

    /** Every error, sorted by file, line and column. */
    public List<ConfigError> errors() {
        return errors;
    }

    private static String summary(List<ConfigError> errors) {
        StringBuilder b = new StringBuilder();
        b.append(errors.size()).append(errors.size() == 1 ? " configuration error" : " configuration errors");
        for (ConfigError e : errors) {
            b.append("\n  ").append(e);
        }
        return b.toString();
    }
}
