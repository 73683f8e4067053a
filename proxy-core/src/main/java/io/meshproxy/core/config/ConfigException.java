package io.meshproxy.core.config;

import java.util.List;

/** An invalid configuration: every problem found, each naming the field (a path like {@code clusters[0].endpoints[1].port}) and the reason. */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final List<String> errors;

    public ConfigException(List<String> errors) {
        super(String.join("\n", errors));
        this.errors = List.copyOf(errors);
    }

    public ConfigException(String error) {
        this(List.of(error));
    }

    public List<String> errors() {
        return errors;
    }
}
