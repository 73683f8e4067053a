package io.meshproxy.tls;

import io.meshproxy.tls.internal.HandshakeObserver;
import io.meshproxy.tls.internal.RotatingKeyManager;
import io.meshproxy.tls.internal.RotatingTrustManager;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

/**
 * The upstream (cluster) side of mTLS: a client {@link SslContext} presenting the workload certificate, verifying
 * the server against the trust bundle, the trust domain and optionally {@code subjectAltNames}, with
 * {@link HandshakeStats}.
 *
 * <p>Session reuse per upstream endpoint: the OpenSSL client context keeps a session cache keyed by the
 * {@code (peerHost, peerPort)} given to {@link #addTo(ChannelPipeline, String, int)}, bounded by
 * {@link TlsOptions#sessionCacheSize()} entries and {@link TlsOptions#sessionTimeout()}. A TLS 1.3 ticket is used
 * once and replaced by the tickets the server sends on the resumed connection; a TLS 1.2 session is reused until
 * it expires. Use one {@code ClientTls} for all endpoints that share an identity and verification policy, so they
 * share the cache. Thread-safe.
 */
public final class ClientTls {
    private final SslContext context;
    private final TlsProvider provider;
    private final TlsOptions options;
    private final RotatingKeyManager keys;
    private final RotatingTrustManager trust;
    private final HandshakeStats stats = new HandshakeStats();
    private volatile WorkloadIdentity identity;

    ClientTls(SslContext context, TlsProvider provider, WorkloadIdentity identity, TlsOptions options,
            RotatingKeyManager keys, RotatingTrustManager trust) {
        this.context = context;
        this.provider = provider;
        this.identity = identity;
        this.options = options;
        this.keys = keys;
        this.trust = trust;
    }

    /**
     * Certificate rotation: full handshakes from now on present {@code next}'s chain and verify servers against its
     * trust bundle. Cached sessions stay and still resume (a resumed session keeps the identities of its original
     * full handshake); after a trust-bundle change, prefer a new {@code ClientTls}, whose cache is empty.
     *
     * @throws IllegalArgumentException {@code next} is of another trust domain
     */
    public void rotate(WorkloadIdentity next) {
        if (!next.trustDomain().equals(identity.trustDomain())) {
            throw new IllegalArgumentException("trust domain " + next.trustDomain() + " differs from "
                    + identity.trustDomain());
        }
        if (!next.trustBundle().equals(identity.trustBundle())) {
            trust.set(TlsContexts.spiffeTrust(next, options.subjectAltNames()));
        }
        keys.set(next.certificateChain(), next.privateKey());
        identity = next;
    }

    public SslContext context() {
        return context;
    }

    public TlsProvider provider() {
        return provider;
    }

    public WorkloadIdentity identity() {
        return identity;
    }

    public HandshakeStats stats() {
        return stats;
    }

    /**
     * Adds the TLS handler ({@code "tls"}, its session keyed by {@code host:port}, SNI {@code host} when it is a
     * name) and the handshake observer ({@code "tls-handshake"}) at the end of a connecting channel's pipeline.
     */
    public void addTo(ChannelPipeline pipeline, String host, int port) {
        SslHandler handler = context.newHandler(pipeline.channel().alloc(), host, port);
        pipeline.addLast("tls", handler);
        pipeline.addLast(HandshakeObserver.NAME, new HandshakeObserver(stats, options.ticker(), identity.trustDomain()));
    }
}
