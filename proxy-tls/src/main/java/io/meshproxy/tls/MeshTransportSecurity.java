package io.meshproxy.tls;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.tls.TransportSecurity;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * The workload's mTLS for proxy-core (register with {@code MeshProxy.Builder.transportSecurity}): BoringSSL
 * engines presenting the workload's SPIFFE identity, verifying peers against the trust bundle and trust domain;
 * server-side session tickets with rotating keys, client-side sessions reused per upstream endpoint; handshake
 * counters on both sides.
 *
 * <p>Clusters with {@code ISTIO_MUTUAL} are served (one client context per ALPN protocol and accepted-SAN list,
 * shared by every endpoint so they share the session cache). SIMPLE and MUTUAL with their own certificate files
 * are not yet: their connects fail (503 UF) with a message saying so.
 */
public final class MeshTransportSecurity implements TransportSecurity {
    private final WorkloadIdentity identity;
    private final TlsOptions options;
    private final ServerTls server;
    private final Map<String, ClientTls> clients = new ConcurrentHashMap<>();
    private final HandshakeStats clientStats = new HandshakeStats();
    private volatile ScheduledFuture<?> ticketRotation;

    public MeshTransportSecurity(WorkloadIdentity identity, TlsOptions options) {
        this.identity = identity;
        this.options = options;
        this.server = TlsContexts.forServer(identity, options);
    }

    /** Rotates the server's session-ticket keys on {@code scheduler} (old keys still decrypt for a while). */
    public MeshTransportSecurity start(ScheduledExecutorService scheduler) {
        ticketRotation = server.scheduleTicketKeyRotation(scheduler);
        return this;
    }

    public WorkloadIdentity identity() {
        return identity;
    }

    /** Downstream (listener) handshakes: full, resumed, failed, and their times. */
    public HandshakeStats serverStats() {
        return server.stats();
    }

    /** Upstream (cluster) handshakes, every client context together. */
    public HandshakeStats clientStats() {
        return clientStats;
    }

    @Override
    public SSLEngine newServerEngine(ListenerConfig listener) {
        return server.context().newEngine(ByteBufAllocator.DEFAULT);
    }

    @Override
    public SSLEngine newClientEngine(ClusterConfig cluster, String host, int port) {
        UpstreamTls tls = cluster.tls();
        if (tls.mode() != UpstreamTls.Mode.ISTIO_MUTUAL) {
            throw new UnsupportedOperationException("cluster '" + cluster.name() + "': tls mode " + tls.mode()
                    + " is not supported yet (ISTIO_MUTUAL is)");
        }
        String alpn = cluster.protocol() == UpstreamProtocol.HTTP2 ? "h2" : "http/1.1";
        ClientTls client = clients.computeIfAbsent(alpn + "|" + tls.subjectAltNames(), k -> TlsContexts.forClient(
                identity, options.toBuilder().alpn(alpn)
                        .subjectAltNames(tls.subjectAltNames().toArray(new String[0])).build()));
        SSLEngine engine = client.context().newEngine(ByteBufAllocator.DEFAULT, host, port);
        if (tls.sni() != null && validHostName(tls.sni())) {
            SSLParameters p = engine.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(tls.sni())));
            engine.setSSLParameters(p);
        }
        return engine;
    }

    /**
     * Whether {@code sni} is a host name the JDK's SNI API accepts. Istio's ISTIO_MUTUAL SNI
     * ({@code outbound_.9080_._.reviews.default.svc.cluster.local}) has underscores, which it refuses; Envoy uses
     * that SNI to pick the server's filter chain, which meshproxy's listeners do not do, so it is left out.
     */
    private static boolean validHostName(String sni) {
        try {
            new SNIHostName(sni);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public String peerPrincipal(SSLSession session) {
        return SpiffeId.ofPeer(session).filter(id -> id.trustDomain().equals(identity.trustDomain()))
                .map(SpiffeId::principal).orElse(null);
    }

    @Override
    public boolean isResumed(SSLEngine engine) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            synchronized (openSsl) {
                long ssl = openSsl.sslPointer();
                return ssl != 0 && SSL.isSessionReused(ssl);
            }
        }
        return false;
    }

    @Override
    public void handshakeCompleted(boolean serverSide, boolean resumed, long durationNanos) {
        if (serverSide) {
            server.stats().recordSuccess(resumed, durationNanos);
        } else {
            clientStats.recordSuccess(resumed, durationNanos);
        }
    }

    /** Stops the ticket-key rotation. */
    public void close() {
        ScheduledFuture<?> f = ticketRotation;
        if (f != null) {
            f.cancel(false);
        }
    }
}
