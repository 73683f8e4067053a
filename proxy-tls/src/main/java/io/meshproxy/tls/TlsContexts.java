package io.meshproxy.tls;

import io.meshproxy.tls.internal.HandshakeObserver;
import io.meshproxy.tls.internal.RotatingKeyManager;
import io.meshproxy.tls.internal.RotatingTrustManager;
import io.meshproxy.tls.internal.SpiffeTrustManager;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the mTLS contexts of a workload identity: {@link #forServer} for listeners (client certificate
 * REQUIRED) and {@link #forClient} for clusters. Both: TLS 1.3 and 1.2 (or what {@link TlsOptions#protocols()}
 * says), ALPN {@code h2} and {@code http/1.1}, ECDSA or RSA keys, peers verified against the trust bundle plus the
 * SPIFFE rule (exactly one SPIFFE URI SAN, in the trust domain), session resumption.
 *
 * <p>Provider: BoringSSL through netty-tcnative when it loads ({@link TlsProvider#OPENSSL}); otherwise the JDK
 * provider with a loud warning, counted in {@link #jdkFallbacks()}, or an {@link IllegalStateException} when
 * {@link TlsOptions#requireOpenSsl()} is set.
 */
public final class TlsContexts {
    private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);
    private static final AtomicLong JDK_FALLBACKS = new AtomicLong();

    private TlsContexts() {}

    /** The provider contexts will use on this JVM (BoringSSL if the native library loaded). */
    public static TlsProvider availableProvider() {
        return OpenSsl.isAvailable() ? TlsProvider.OPENSSL : TlsProvider.JDK;
    }

    /** How many contexts were built on the JDK provider because BoringSSL could not load. */
    public static long jdkFallbacks() {
        return JDK_FALLBACKS.get();
    }

    /**
     * A server context presenting {@code identity}; {@link ServerTls#rotate} later swaps the certificate (and trust
     * bundle) for new handshakes without building a new context.
     */
    public static ServerTls forServer(WorkloadIdentity identity, TlsOptions options) {
        TlsProvider provider = chooseProvider(options, "server");
        RotatingKeyManager keys = new RotatingKeyManager(identity.certificateChain(), identity.privateKey());
        RotatingTrustManager trust = new RotatingTrustManager(spiffeTrust(identity, List.of()));
        SslContextBuilder b = SslContextBuilder.forServer(keys).clientAuth(ClientAuth.REQUIRE);
        SslContext ctx = build(common(b, trust, options, provider), "server", identity);
        return new ServerTls(ctx, provider, identity, options, keys, trust);
    }

    /**
     * A client context presenting {@code identity}; {@link ClientTls#rotate} later swaps the certificate (and trust
     * bundle) for new handshakes, keeping the session cache.
     */
    public static ClientTls forClient(WorkloadIdentity identity, TlsOptions options) {
        return forClient(identity, options,
                new RotatingKeyManager(identity.certificateChain(), identity.privateKey()));
    }

    /** A client context whose certificate comes from {@code keys}, which several contexts may share. */
    static ClientTls forClient(WorkloadIdentity identity, TlsOptions options, RotatingKeyManager keys) {
        TlsProvider provider = chooseProvider(options, "client");
        RotatingTrustManager trust = new RotatingTrustManager(spiffeTrust(identity, options.subjectAltNames()));
        SslContextBuilder b = SslContextBuilder.forClient()
                .keyManager(keys)
                // Identity is the SPIFFE ID (and subjectAltNames), as in Istio, not the host name: endpoints are
                // dialled by IP and workload certificates carry no DNS names. Netty 4.2 enables HTTPS host name
                // verification by default; switch it off here, the trust manager does the identity check.
                .endpointIdentificationAlgorithm(null);
        SslContext ctx = build(common(b, trust, options, provider), "client", identity);
        return new ClientTls(ctx, provider, identity, options, keys, trust);
    }

    static SpiffeTrustManager spiffeTrust(WorkloadIdentity identity, List<String> subjectAltNames) {
        return new SpiffeTrustManager(identity.trustBundle(), identity.trustDomain(), subjectAltNames);
    }

    /**
     * The peer's SPIFFE ID of a channel set up by {@link ServerTls#addTo} or {@link ClientTls#addTo}, once its
     * handshake has succeeded; this is the peer principal ({@link SpiffeId#principal()}) requests carry.
     */
    public static Optional<SpiffeId> peerIdentity(Channel channel) {
        return Optional.ofNullable(channel.attr(HandshakeObserver.PEER_ID).get());
    }

    static SslContextBuilder common(SslContextBuilder b, javax.net.ssl.TrustManager trust, TlsOptions options,
            TlsProvider provider) {
        if (provider == TlsProvider.OPENSSL) {
            b.option(OpenSslContextOption.GROUPS, options.groups().toArray(new String[0]));
        }
        return b.sslProvider(provider == TlsProvider.OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK)
                .trustManager(trust)
                .protocols(options.protocols())
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, options.alpn()))
                .sessionCacheSize(options.sessionCacheSize())
                .sessionTimeout(options.sessionTimeout().toSeconds());
    }

    private static SslContext build(SslContextBuilder b, String side, WorkloadIdentity identity) {
        try {
            return b.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the TLS " + side + " context for " + identity.spiffeId()
                    + ": " + e.getMessage(), e);
        }
    }

    static TlsProvider chooseProvider(TlsOptions options, String side) {
        if (OpenSsl.isAvailable()) return TlsProvider.OPENSSL;
        Throwable cause = OpenSsl.unavailabilityCause();
        if (options.requireOpenSsl()) {
            throw new IllegalStateException("BoringSSL (netty-tcnative) is required but cannot load: " + cause, cause);
        }
        JDK_FALLBACKS.incrementAndGet();
        log.warn("!!! BoringSSL (netty-tcnative) cannot load on this platform ({}); the TLS {} context falls back to "
                + "the JDK provider: handshakes are several times slower and session-ticket keys are not rotated "
                + "by meshproxy. Set requireOpenSsl to refuse instead. !!!", String.valueOf(cause), side);
        return TlsProvider.JDK;
    }
}
