package io.meshproxy.tls;

import io.meshproxy.core.AdminEndpoint;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.tls.TransportSecurity;
import io.meshproxy.tls.internal.RotatingKeyManager;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workload's mTLS for proxy-core (register with {@code MeshProxy.Builder.transportSecurity}): BoringSSL
 * engines presenting the workload's SPIFFE identity, verifying peers against the trust bundle and trust domain;
 * server-side session tickets with rotating keys, client-side sessions reused per upstream endpoint; handshake
 * counters on both sides.
 *
 * <p>Certificate rotation: {@link #rotate} (or {@link #watch}, which calls it for every valid change of the
 * identity files) makes new handshakes, inbound and outbound, present the new certificate; open connections carry
 * on, and so do session tickets and client session caches (a resumed session keeps the identities of its original
 * full handshake). A new trust bundle also replaces the ticket keys and the ISTIO_MUTUAL client contexts, so every
 * peer is verified against it on its next connection.
 *
 * <p>Clusters by DestinationRule {@code tls.mode}:
 * <ul>
 *   <li>{@code ISTIO_MUTUAL}: the workload identity; one client context per ALPN protocol and accepted-SAN list,
 *       shared by every endpoint so they share the session cache;</li>
 *   <li>{@code SIMPLE}: verifies the server against {@code caCertificates} (the JDK's default trust store when not
 *       given) and its name ({@code subjectAltNames}, else the {@code sni}), no client certificate;</li>
 *   <li>{@code MUTUAL}: as SIMPLE, presenting {@code clientCertificate} / {@code privateKey}.</li>
 * </ul>
 * SIMPLE and MUTUAL contexts are cached per (mode, files, SANs, SNI, ALPN); bad files fail the cluster's connects
 * (503 UF) with one ERROR log. {@link #prepare} reads their files ahead of traffic.
 */
public final class MeshTransportSecurity implements TransportSecurity {
    private static final Logger log = LoggerFactory.getLogger(MeshTransportSecurity.class);

    /** The identity and the ISTIO_MUTUAL client contexts verifying with its trust bundle. */
    private record State(WorkloadIdentity identity, Map<String, ClientTls> clients) {}

    private final TlsOptions options;
    private final ServerTls server;
    private final RotatingKeyManager clientKeys;
    private final UpstreamContexts upstream;
    private final HandshakeStats clientStats = new HandshakeStats();
    private final AtomicLong rotations = new AtomicLong();
    private volatile State state;
    private volatile ScheduledFuture<?> ticketRotation;
    private volatile IdentityWatcher watcher;

    public MeshTransportSecurity(WorkloadIdentity identity, TlsOptions options) {
        this.options = options;
        this.server = TlsContexts.forServer(identity, options);
        this.clientKeys = new RotatingKeyManager(identity.certificateChain(), identity.privateKey());
        this.upstream = new UpstreamContexts(options);
        this.state = new State(identity, new ConcurrentHashMap<>());
    }

    /** Rotates the server's session-ticket keys on {@code scheduler} (old keys still decrypt for a while). */
    public MeshTransportSecurity start(ScheduledExecutorService scheduler) {
        ticketRotation = server.scheduleTicketKeyRotation(scheduler);
        return this;
    }

    /**
     * Follows {@code watcher}: every identity it takes into use is {@linkplain #rotate rotated} in; polling on
     * {@code scheduler} starts now and stops with {@link #close()}.
     */
    public MeshTransportSecurity watch(IdentityWatcher watcher, ScheduledExecutorService scheduler) {
        if (!watcher.current().equals(state.identity())) {
            rotate(watcher.current());
        }
        watcher.addListener(this::rotate);
        this.watcher = watcher.start(scheduler);
        return this;
    }

    /**
     * Certificate rotation: new handshakes on both sides present {@code next}; connections already open are not
     * touched. A changed trust bundle also starts fresh ticket keys and ISTIO_MUTUAL client contexts.
     *
     * @throws IllegalArgumentException {@code next} is of another trust domain
     */
    public void rotate(WorkloadIdentity next) {
        State before = state;
        if (!next.trustDomain().equals(before.identity().trustDomain())) {
            throw new IllegalArgumentException("cannot rotate to trust domain " + next.trustDomain() + ": serving "
                    + before.identity().trustDomain());
        }
        boolean newBundle = !next.trustBundle().equals(before.identity().trustBundle());
        server.rotate(next);
        clientKeys.set(next.certificateChain(), next.privateKey());
        state = new State(next, newBundle ? new ConcurrentHashMap<>() : before.clients());
        rotations.incrementAndGet();
        log.debug("serving {} serial {}{}", next.spiffeId(), next.leaf().getSerialNumber().toString(16),
                newBundle ? " with a new trust bundle (fresh ticket keys and client contexts)" : "");
    }

    /** The identity new handshakes present. */
    public WorkloadIdentity identity() {
        return state.identity();
    }

    /** How many times {@link #rotate} changed the identity. */
    public long rotations() {
        return rotations.get();
    }

    /** The watcher given to {@link #watch}, or null. */
    public IdentityWatcher watcher() {
        return watcher;
    }

    /** Rotates the server's session-ticket key now (the previous key still decrypts). */
    public void rotateTicketKeys() {
        server.rotateTicketKeys();
    }

    /**
     * Reads the files of the SIMPLE and MUTUAL clusters among {@code clusters} now, off the event loops, so their
     * first connections do not; a cluster with bad files is logged (ERROR) and its connects fail UF.
     *
     * @return the names of the clusters whose TLS could not be set up
     */
    public List<String> prepare(Collection<ClusterConfig> clusters) {
        List<String> failed = new ArrayList<>();
        for (ClusterConfig c : clusters) {
            UpstreamTls tls = c.tls();
            if (tls != null && tls.mode() != UpstreamTls.Mode.ISTIO_MUTUAL
                    && !upstream.prepare(tls, alpn(c), c.name())) {
                failed.add(c.name());
            }
        }
        return failed;
    }

    /**
     * An Envoy-like {@code /certs} admin page: the serving certificate (SPIFFE ID, serial, validity), the trust
     * bundle's roots, and the rotation counters, as JSON.
     */
    public AdminEndpoint certsEndpoint() {
        return query -> {
            WorkloadIdentity id = identity();
            IdentityWatcher w = watcher;
            StringBuilder b = new StringBuilder("{\n  \"certificates\": [\n");
            b.append("    {\"role\": \"workload\", \"spiffe_id\": \"").append(id.spiffeId()).append("\", ");
            cert(b, id.leaf());
            b.append("}");
            for (X509Certificate root : id.trustBundle()) {
                b.append(",\n    {\"role\": \"trust_bundle\", ");
                cert(b, root);
                b.append("}");
            }
            b.append("\n  ],\n  \"rotations\": ").append(rotations());
            if (w != null) {
                b.append(",\n  \"rotations_rejected\": ").append(w.rejected())
                        .append(",\n  \"expiry_warnings\": ").append(w.expiryWarnings());
                String last = w.lastRejection();
                if (last != null) {
                    b.append(",\n  \"last_rejection\": \"").append(json(last)).append('"');
                }
            }
            b.append("\n}\n");
            return new AdminEndpoint.Response(200, "application/json", b.toString());
        };
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    private static void cert(StringBuilder b, X509Certificate c) {
        b.append("\"serial_number\": \"").append(c.getSerialNumber().toString(16))
                .append("\", \"subject\": \"").append(json(c.getSubjectX500Principal().getName()))
                .append("\", \"valid_from\": \"").append(c.getNotBefore().toInstant())
                .append("\", \"expiration_time\": \"").append(c.getNotAfter().toInstant()).append('"');
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
        String alpn = alpn(cluster);
        SSLEngine engine;
        if (tls.mode() == UpstreamTls.Mode.ISTIO_MUTUAL) {
            State s = state;
            ClientTls client = s.clients().computeIfAbsent(alpn + "|" + tls.subjectAltNames(), k ->
                    TlsContexts.forClient(s.identity(), options.toBuilder().alpn(alpn)
                            .subjectAltNames(tls.subjectAltNames().toArray(new String[0])).build(), clientKeys));
            engine = client.context().newEngine(ByteBufAllocator.DEFAULT, host, port);
        } else {
            engine = upstream.context(UpstreamContexts.Key.of(tls, alpn), cluster.name())
                    .newEngine(ByteBufAllocator.DEFAULT, host, port);
        }
        if (tls.sni() != null && validHostName(tls.sni())) {
            SSLParameters p = engine.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(tls.sni())));
            engine.setSSLParameters(p);
        }
        return engine;
    }

    private static String alpn(ClusterConfig cluster) {
        return cluster.protocol() == UpstreamProtocol.HTTP2 ? "h2" : "http/1.1";
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
        String trustDomain = state.identity().trustDomain();
        return SpiffeId.ofPeer(session).filter(id -> id.trustDomain().equals(trustDomain))
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

    /** Stops the ticket-key rotation and the identity watcher. */
    public void close() {
        ScheduledFuture<?> f = ticketRotation;
        if (f != null) {
            f.cancel(false);
        }
        IdentityWatcher w = watcher;
        if (w != null) {
            w.close();
        }
    }
}
