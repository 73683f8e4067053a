package io.meshproxy.tls.internal;

import io.meshproxy.tls.HandshakeStats;
import io.meshproxy.tls.SpiffeId;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.internal.tcnative.SSL;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.Optional;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits right after the {@link SslHandler}: times the handshake (from channel active to the completion event),
 * tells full from resumed, counts them, re-checks the peer's SPIFFE ID (a resumed session skips the trust
 * manager, so the identity comes from the session's stored peer chain) and stores it as a channel attribute.
 * A session without a valid peer identity is closed before any application data is read.
 */
public final class HandshakeObserver extends ChannelInboundHandlerAdapter {
    public static final AttributeKey<SpiffeId> PEER_ID = AttributeKey.valueOf(HandshakeObserver.class, "peerSpiffeId");
    public static final String NAME = "tls-handshake";
    private static final Logger log = LoggerFactory.getLogger(HandshakeObserver.class);

    private final HandshakeStats stats;
    private final LongSupplier ticker;
    private final String trustDomain;
    private boolean rejected;
    private long startNanos;
    private long startMillis;

    public HandshakeObserver(HandshakeStats stats, LongSupplier ticker, String trustDomain) {
        this.stats = stats;
        this.ticker = ticker;
        this.trustDomain = trustDomain;
    }

    private void start() {
        startNanos = ticker.getAsLong();
        startMillis = System.currentTimeMillis();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) start();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        start();
        super.channelActive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            long nanos = ticker.getAsLong() - startNanos;
            if (!done.isSuccess()) {
                stats.recordFailure();
                log.debug("TLS handshake failed with {}: {}", ctx.channel().remoteAddress(), done.cause().toString());
            } else {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                SSLEngine engine = ssl.engine();
                SSLSession session = engine.getSession();
                Optional<SpiffeId> peer = SpiffeId.ofPeer(session);
                if (peer.isEmpty() || !peer.get().memberOf(trustDomain)) {
                    // Only reachable if the trust manager was bypassed (it enforces the same rule): fail closed.
                    rejected = true;
                    stats.recordFailure();
                    log.warn("closing {}: peer has no SPIFFE ID in trust domain {}", ctx.channel().remoteAddress(),
                            trustDomain);
                    ctx.close();
                    return;
                }
                ctx.channel().attr(PEER_ID).set(peer.get());
                stats.recordSuccess(isResumed(engine, session), nanos);
            }
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (rejected) {
            // Application data decoded in the same read as the handshake's end: dropped, never passed on.
            ReferenceCountUtil.release(msg);
            return;
        }
        super.channelRead(ctx, msg);
    }

    /**
     * BoringSSL's own answer ({@code SSL_session_reused}) on the OpenSSL engine; on the JDK engine, a best effort:
     * a session created before this handshake started was resumed.
     */
    boolean isResumed(SSLEngine engine, SSLSession session) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            synchronized (openSsl) {
                long ssl = openSsl.sslPointer();
                return ssl != 0 && SSL.isSessionReused(ssl);
            }
        }
        return session.getCreationTime() < startMillis;
    }
}
