package io.meshproxy.config.internal;

import io.meshproxy.config.ConfigError;
import io.meshproxy.config.ConfigSource;
import io.meshproxy.core.config.ProxyConfig;
import java.util.List;

/** Parses YAML sources, binds and validates the resources, translates them to the core model. */
public final class Translator {
    private Translator() {}

    /** The translation: a config when {@code errors} is empty. */
    public record Result(ProxyConfig config, List<ConfigError> errors) {}

    public static Result translate(List<ConfigSource> sources) {
        throw new UnsupportedOperationException("not yet");
    }
}
