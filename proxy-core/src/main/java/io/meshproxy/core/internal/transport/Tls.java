package io.meshproxy.core.internal.transport;

import io.netty.util.AttributeKey;

/** Small TLS facts of a downstream connection, set by the listener and read by the downstream handler. */
final class Tls {
    /** The downstream peer's principal, set on the connection when its handshake finished. */
    static final AttributeKey<String> PEER_PRINCIPAL = AttributeKey.valueOf("meshproxy.peerPrincipal");
    /** Set on a downstream connection whose TLS handshake succeeded. */
    static final AttributeKey<Boolean> SECURE = AttributeKey.valueOf("meshproxy.secure");

    private Tls() {}
}
