package io.meshproxy.core.internal.transport;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.tls.TransportSecurity;
import io.meshproxy.core.upstream.ClusterStats;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslHandler;
import java.util.concurrent.TimeUnit;

/**
 * Upstream connects, with TLS when the cluster asks for it: the returned future completes when the TCP
 * connection is up and, for a TLS cluster, its handshake has finished — so a pool sees a TLS connection exactly
 * as a plaintext one, and a failed handshake exactly as a failed connect (503 UF, counted as
 * {@code upstream_cx_connect_fail}). Handshakes are counted in the cluster's {@code ssl.*} statistics, and the
 * upstream's principal (its SPIFFE ID, Istio's form) is kept on the connection for the requests it carries.
 */
final class TlsConnect {
    private TlsConnect() {}

    static ChannelFuture connect(Bootstrap bootstrap, String host, int port, ClusterConfig cluster,
            TransportSecurity security, ClusterStats stats) {
        ChannelFuture connected = bootstrap.connect(host, port);
        if (cluster.tls() == null) {
            return connected;
        }
        Channel ch = connected.channel();
        ChannelPromise ready = ch.newPromise();
        connected.addListener(done -> {
            if (!done.isSuccess()) {
                ready.setFailure(done.cause());
                return;
            }
            if (security == null) {
                ch.close();
                ready.setFailure(new IllegalStateException("cluster '" + cluster.name()
                        + "' uses TLS but no TransportSecurity is registered"));
                return;
            }
            long started = System.nanoTime();
            SslHandler tls;
            try {
                tls = new SslHandler(security.newClientEngine(cluster, host, port));
            } catch (RuntimeException e) {
                ch.close();
                ready.setFailure(e);
                return;
            }
            tls.setHandshakeTimeout(cluster.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            ch.pipeline().addFirst("tls", tls);
            tls.handshakeFuture().addListener(hs -> {
                if (hs.isSuccess()) {
                    boolean resumed = security.isResumed(tls.engine());
                    security.handshakeCompleted(false, resumed, System.nanoTime() - started);
                    if (stats != null) {
                        stats.sslHandshake.increment();
                        if (resumed) {
                            stats.sslSessionReused.increment();
                        }
                    }
                    String principal = security.peerPrincipal(tls.engine().getSession());
                    if (principal != null) {
                        ch.attr(Tls.PEER_PRINCIPAL).set(principal);
                    }
                    ready.setSuccess();
                } else {
                    if (stats != null) {
                        stats.sslConnectionError.increment();
                    }
                    ch.close();
                    ready.setFailure(hs.cause());
                }
            });
        });
        return ready;
    }
}
