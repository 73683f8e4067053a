package io.meshproxy.core.internal.transport;

import io.netty.util.AttributeKey;

/**
 * Small TLS facts of a connection: set on a downstream one by the listener and read by the downstream handler;
 * {@link #PEER_PRINCIPAL} is set on an upstream one too (by {@link TlsConnect}) and read per request.
 */
final class Tls {
    /** The peer's principal, set on the connection when its handshake finished. */
    static final AttributeKey<String> PEER_PRINCIPAL = AttributeKey.valueOf("meshproxy.peerPrincipal");
    /** Set on a downstream connection whose TLS handshake succeeded. */
    static final AttributeKey<Boolean> SECURE = AttributeKey.valueOf("meshproxy.secure");

    private Tls() {}
}
