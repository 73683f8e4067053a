package io.meshproxy.core.tls;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * Where TLS comes from: proxy-tls implements this (BoringSSL contexts, the workload's SPIFFE identity, session
 * resumption, certificate rotation) and registers it with {@code MeshProxy.Builder.transportSecurity}; the core
 * only runs the engines it is given. JDK types only, so the core stays free of any TLS library.
 *
 * <p>Engines are created on the event loop of the connection they serve: creating one must not block (no file
 * reads; rotation happens in the background and swaps the context the engines come from).
 */
public interface TransportSecurity {

    /**
     * A server-mode engine for a new downstream connection of {@code listener} (whose {@code tlsMode} is
     * PERMISSIVE or STRICT): it requires a client certificate and offers ALPN {@code h2} and {@code http/1.1}.
     */
    SSLEngine newServerEngine(ListenerConfig listener);

    /**
     * A client-mode engine for a connection of {@code cluster} (whose {@link ClusterConfig#tls()} is set) to
     * {@code host:port}; it offers ALPN {@code h2} for an HTTP/2 cluster, {@code http/1.1} otherwise, and resumes
     * sessions per endpoint where it can.
     */
    SSLEngine newClientEngine(ClusterConfig cluster, String host, int port);

    /** The peer's principal from a finished handshake (Istio's form, {@code cluster.local/ns/NS/sa/SA}), or null. */
    String peerPrincipal(SSLSession session);

    /** Whether the finished handshake of {@code engine} resumed an earlier session (false when unknown). */
    default boolean isResumed(SSLEngine engine) {
        return false;
    }

    /** Told of every finished handshake (for counters): which side, whether resumed, how long it took. */
    default void handshakeCompleted(boolean server, boolean resumed, long durationNanos) {}
}
