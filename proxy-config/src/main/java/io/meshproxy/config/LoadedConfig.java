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
 */
public record LoadedConfig(ProxyConfig config, String version, List<String> sources, List<ListenerRole> listeners) {
    public LoadedConfig {
        sources = List.copyOf(sources);
        listeners = List.copyOf(listeners);
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
