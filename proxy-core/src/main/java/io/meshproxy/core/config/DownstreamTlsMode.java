package io.meshproxy.core.config;

/** What a listener accepts (Istio's PeerAuthentication {@code mtls.mode} for the port it serves). */
public enum DownstreamTlsMode {
    /** Plaintext only (the default). */
    DISABLE,
    /** mTLS and plaintext on one port, told apart by the connection's first bytes. */
    PERMISSIVE,
    /** mTLS only: plaintext connections are closed, a client without a valid certificate is refused. */
    STRICT
}
