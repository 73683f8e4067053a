package io.meshproxy.core.internal.transport;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.tls.TransportSecurity;
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
 * {@code upstream_cx_connect_fail}).
 */
final class TlsConnect {
    private TlsConnect() {}

    static ChannelFuture connect(Bootstrap bootstrap, String host, int port, ClusterConfig cluster,
            TransportSecurity security) {
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
                    security.handshakeCompleted(false, security.isResumed(tls.engine()), System.nanoTime() - started);
                    ready.setSuccess();
                } else {
                    ch.close();
                    ready.setFailure(hs.cause());
                }
            });
        });
        return ready;
    }
}
