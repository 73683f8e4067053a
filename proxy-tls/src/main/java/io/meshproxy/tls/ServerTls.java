package io.meshproxy.tls;

import io.meshproxy.tls.internal.HandshakeObserver;
import io.meshproxy.tls.internal.RotatingKeyManager;
import io.meshproxy.tls.internal.RotatingTrustManager;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.security.SecureRandom;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The downstream (listener) side of mTLS: a server {@link SslContext} that requires a client certificate chaining
 * to the trust bundle with a SPIFFE ID in the trust domain, session resumption by tickets (keys rotated by
 * {@link #rotateTicketKeys()}, on a schedule with {@link #scheduleTicketKeyRotation}) and a bounded session-id
 * cache, and {@link HandshakeStats}. The certificate and trust bundle are read at each handshake from rotating
 * managers, so {@link #rotate} takes effect for the next handshake without a new context. Thread-safe; one per
 * listener identity.
 */
public final class ServerTls {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SslContext context;
    private final TlsProvider provider;
    private final TlsOptions options;
    private final RotatingKeyManager keys;
    private final RotatingTrustManager trust;
    private final HandshakeStats stats = new HandshakeStats();
    private volatile WorkloadIdentity identity;
    private OpenSslSessionTicketKey currentKey; // guarded by this
    private long rotations; // guarded by this

    ServerTls(SslContext context, TlsProvider provider, WorkloadIdentity identity, TlsOptions options,
            RotatingKeyManager keys, RotatingTrustManager trust) {
        this.context = context;
        this.provider = provider;
        this.identity = identity;
        this.options = options;
        this.keys = keys;
        this.trust = trust;
        rotateTicketKeys();
    }

    /**
     * Certificate rotation: handshakes from now on present {@code next}'s certificate chain and verify clients
     * against its trust bundle; connections already open are untouched. The context stays, so do its ticket keys:
     * clients resume as before, each resumed session keeping the identities of its original full handshake. When
     * the trust bundle changed, the ticket keys are replaced instead (old tickets no longer decrypt), so every
     * client is verified against the new bundle on its next connection.
     *
     * @throws IllegalArgumentException {@code next} is of another trust domain
     */
    public void rotate(WorkloadIdentity next) {
        WorkloadIdentity before = identity;
        if (!next.trustDomain().equals(before.trustDomain())) {
            throw new IllegalArgumentException("trust domain " + next.trustDomain() + " differs from "
                    + before.trustDomain());
        }
        boolean newBundle = !next.trustBundle().equals(before.trustBundle());
        if (newBundle) {
            trust.set(TlsContexts.spiffeTrust(next, java.util.List.of()));
        }
        keys.set(next.certificateChain(), next.privateKey());
        identity = next;
        if (newBundle) {
            resetTicketKeys();
        }
    }

    public SslContext context() {
        return context;
    }

    public TlsProvider provider() {
        return provider;
    }

    /** The identity new handshakes present (the latest {@link #rotate}). */
    public WorkloadIdentity identity() {
        return identity;
    }

    public HandshakeStats stats() {
        return stats;
    }

    /**
     * Adds the TLS handler ({@code "tls"}) and the handshake observer ({@code "tls-handshake"}) at the end of an
     * accepted channel's pipeline; application handlers go after them. After the handshake,
     * {@link TlsContexts#peerIdentity} gives the client's SPIFFE ID.
     */
    public void addTo(ChannelPipeline pipeline) {
        SslHandler handler = context.newHandler(pipeline.channel().alloc());
        pipeline.addLast("tls", handler);
        pipeline.addLast(HandshakeObserver.NAME, new HandshakeObserver(stats, options.ticker(), identity.trustDomain()));
    }

    /**
     * Installs a fresh random session-ticket key for new tickets, keeping the previous one for decryption only: a
     * ticket stays usable for one to two rotation periods. No-op (returns false) on the JDK provider, which manages
     * its own ticket keys.
     */
    public synchronized boolean rotateTicketKeys() {
        if (!(context.sessionContext() instanceof OpenSslServerSessionContext sessions)) return false;
        OpenSslSessionTicketKey next = new OpenSslSessionTicketKey(random(OpenSslSessionTicketKey.NAME_SIZE),
                random(OpenSslSessionTicketKey.HMAC_KEY_SIZE), random(OpenSslSessionTicketKey.AES_KEY_SIZE));
        if (currentKey == null) {
            sessions.setTicketKeys(next);
        } else {
            sessions.setTicketKeys(next, currentKey); // the first key encrypts; all decrypt
        }
        currentKey = next;
        rotations++;
        return true;
    }

    /** Installs one fresh ticket key and forgets the others: every ticket issued so far stops resuming. */
    public synchronized boolean resetTicketKeys() {
        if (!(context.sessionContext() instanceof OpenSslServerSessionContext sessions)) return false;
        currentKey = null;
        return rotateTicketKeys();
    }

    /** How many ticket keys have been installed (the first at construction). */
    public synchronized long ticketKeyRotations() {
        return rotations;
    }

    /** Rotates the ticket key every {@link TlsOptions#ticketKeyRotation()} on {@code scheduler}; cancel the future to stop. */
    public ScheduledFuture<?> scheduleTicketKeyRotation(ScheduledExecutorService scheduler) {
        long period = options.ticketKeyRotation().toMillis();
        return scheduler.scheduleAtFixedRate(() -> {
            try {
                rotateTicketKeys();
            } catch (RuntimeException e) {
                log.warn("session ticket key rotation failed; the previous key stays in use", e);
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
