package io.meshproxy.config;

/**
 * What the loader does with a field it does not know, or one written under the wrong parent (Kubernetes'
 * {@code kubectl --validate=strict|warn}). Only unknown and misplaced fields are concerned: a wrong type, a
 * value out of range or a reference to nothing is an error in every mode.
 */
public enum FieldValidation {
    /** An unknown field is an error: nothing is used until it is fixed (the default). */
    STRICT,
    /**
     * An unknown field is a warning with its place and the same did-you-mean / "it belongs in" hint, and is
     * dropped, as the Kubernetes API server prunes it: Istio documents written for a cluster load as the
     * cluster would have stored them. See {@link LoadedConfig#warnings()}.
     */
    WARN
}
