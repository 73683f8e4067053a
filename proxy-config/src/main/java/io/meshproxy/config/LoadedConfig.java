package io.meshproxy.config;

import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.telemetry.TelemetryConfig;
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
 * @param telemetry what proxy-telemetry records and where it sends it: the Proxy's {@code spec.workload} and
 *     {@code spec.telemetry} with the Istio Telemetry resources that apply to the workload, and Istio's
 *     {@code reporter} of each listener; for {@code Telemetry.create(..)}. Read at start only: a proxy's event
 *     listener is fixed when it is built, so a change needs a restart
 * @param identity the Proxy's {@code spec.identity}: the workload certificate, key and trust bundle files for
 *     proxy-tls, and the trust domain; null when not written: INBOUND listeners then stay plaintext, and a
 *     PeerAuthentication asking for PERMISSIVE or STRICT, or a DestinationRule for ISTIO_MUTUAL, is an error
 * @param inboundSecurity the AuthorizationPolicies and RequestAuthentication {@code jwtRules} that apply to the
 *     workload, for requests on its INBOUND listeners; {@link InboundSecurity#NONE} when none apply. Swapped in
 *     on every reload
 */
public record LoadedConfig(ProxyConfig config, String version, List<String> sources, List<ListenerRole> listeners,
        List<ConfigError> warnings, TelemetryConfig telemetry, IdentityFiles identity,
        InboundSecurity inboundSecurity) {
    public LoadedConfig {
        sources = List.copyOf(sources);
        listeners = List.copyOf(listeners);
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
        telemetry = telemetry == null ? TelemetryConfig.DEFAULT : telemetry;
        inboundSecurity = inboundSecurity == null ? InboundSecurity.NONE : inboundSecurity;
    }

    /** Without authorization policies or JWT rules. */
    public LoadedConfig(ProxyConfig config, String version, List<String> sources, List<ListenerRole> listeners,
            List<ConfigError> warnings, TelemetryConfig telemetry, IdentityFiles identity) {
        this(config, version, sources, listeners, warnings, telemetry, identity, InboundSecurity.NONE);
    }

    /** Without a workload identity. */
    public LoadedConfig(ProxyConfig config, String version, List<String> sources, List<ListenerRole> listeners,
            List<ConfigError> warnings, TelemetryConfig telemetry) {
        this(config, version, sources, listeners, warnings, telemetry, null);
    }

    /** With telemetry's defaults. */
    public LoadedConfig(ProxyConfig config, String version, List<String> sources, List<ListenerRole> listeners,
            List<ConfigError> warnings) {
        this(config, version, sources, listeners, warnings, TelemetryConfig.DEFAULT);
    }

    /** Without warnings, with telemetry's defaults. */
    public LoadedConfig(ProxyConfig config, String version, List<String> sources, List<ListenerRole> listeners) {
        this(config, version, sources, listeners, List.of(), TelemetryConfig.DEFAULT);
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
