package io.meshproxy.config;

import java.util.Objects;

/**
 * The text of one YAML file (one or more documents) and the name errors in it are reported under.
 *
 * @param name a file path or a resource name
 * @param text the YAML text
 */
public record ConfigSource(String name, String text) {
    public ConfigSource {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(text, "text");
    }
}
