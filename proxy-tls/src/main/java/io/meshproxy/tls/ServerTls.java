package io.meshproxy.tls;

import io.meshproxy.tls.internal.HandshakeObserver;
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
 * cache, and {@link HandshakeStats}. Thread-safe; one per listener identity.
 */
public final class ServerTls {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SslContext context;
    private final TlsProvider provider;
    private final WorkloadIdentity identity;
    private final TlsOptions options;
    private final HandshakeStats stats = new HandshakeStats();
    private OpenSslSessionTicketKey currentKey; // guarded by this
    private long rotations; // guarded by this

    ServerTls(SslContext context, TlsProvider provider, WorkloadIdentity identity, TlsOptions options) {
        this.context = context;
        this.provider = provider;
        this.identity = identity;
        this.options = options;
        rotateTicketKeys();
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
