package io.meshproxy.config.internal;

import io.meshproxy.config.ConfigError;
import io.meshproxy.config.FieldValidation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Collects every error and warning found, each once. */
final class Diagnostics {
    private final FieldValidation fieldValidation;
    private final List<ConfigError> errors = new ArrayList<>();
    private final List<ConfigError> warnings = new ArrayList<>();
    private final Set<ConfigError> seen = new HashSet<>();

    Diagnostics() {
        this(FieldValidation.STRICT);
    }

    Diagnostics(FieldValidation fieldValidation) {
        this.fieldValidation = fieldValidation;
    }

    void error(Loc at, String message) {
        ConfigError e = new ConfigError(at.file(), at.line(), at.column(), message);
        if (seen.add(e)) {
            errors.add(e);
        }
    }

    /** Something that loads but deserves a look (a deprecated field); never stops the configuration. */
    void warning(Loc at, String message) {
        ConfigError w = new ConfigError(at.file(), at.line(), at.column(), message);
        if (seen.add(w)) {
            warnings.add(w);
        }
    }

    /** An unknown or misplaced field: an error, or with {@link FieldValidation#WARN} a warning (the field is dropped). */
    void unknownField(Loc at, String message) {
        if (fieldValidation == FieldValidation.WARN) {
            warning(at, message);
        } else {
            error(at, message);
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

    List<ConfigError> sortedWarnings() {
        List<ConfigError> copy = new ArrayList<>(warnings);
        copy.sort(null);
        return copy;
    }
}
