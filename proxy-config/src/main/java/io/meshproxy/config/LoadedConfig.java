package io.meshproxy.config;

import io.meshproxy.core.config.ProxyConfig;
import java.util.List;

/**
 * A valid configuration read from files: the core model it translates to and where it came from.
 *
 * @param config the proxy configuration, ready for {@code MeshProxy.builder().config(..)} or
 *     {@code MeshProxy.update(..)}
 * @param version a digest of the sources' names and contents (12 hex digits): equal files, equal version
 * @param sources the names of the files read, in the order read
 * @param listeners the direction of each listener of the Proxy resource, in its order
 * @param warnings what loaded but deserves a look, sorted by place, in the {@code FILE:LINE:COLUMN: message}
 *     form of errors: deprecated fields, and with {@link FieldValidation#WARN} every unknown or misplaced field
 *     that was dropped; empty when there is nothing to say
 */
public record LoadedConfig(ProxyConfig config, String version, List<String> sources, List<ListenerRole> listeners,
        List<ConfigError> warnings) {
    public LoadedConfig {
        sources = List.copyOf(sources);
        listeners = List.copyOf(listeners);
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    /** Without warnings. */
    public LoadedConfig(ProxyConfig config, String version, List<String> sources, List<ListenerRole> listeners) {
        this(config, version, sources, listeners, List.of());
    }

    /** The role of listener {@code name}, or null. */
    public ListenerRole listener(String name) {
        for (ListenerRole l : listeners) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        return null;
    }
}
