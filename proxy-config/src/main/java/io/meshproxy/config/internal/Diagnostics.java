package io.meshproxy.config.internal;

import io.meshproxy.config.ConfigError;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Collects every error found, each once. */
final class Diagnostics {
    private final List<ConfigError> errors = new ArrayList<>();
    private final Set<ConfigError> seen = new HashSet<>();

    void error(Loc at, String message) {
        ConfigError e = new ConfigError(at.file(), at.line(), at.column(), message);
        if (seen.add(e)) {
            errors.add(e);
        }
    }

    boolean hasErrors() {
        return !errors.isEmpty();
    }

    int count() {
        return errors.size();
    }

    List<ConfigError> sorted() {
        List<ConfigError> copy = new ArrayList<>(errors);
        copy.sort(null);
        return copy;
    }
}
