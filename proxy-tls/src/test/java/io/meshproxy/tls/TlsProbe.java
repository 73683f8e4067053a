package io.meshproxy.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;

/** A full handshake from a fresh client context (no cached session): which certificate did the server present? */
final class TlsProbe {
    private TlsProbe() {}

    static BigInteger serverSerial(EventLoopGroup group, WorkloadIdentity client, int port) throws Exception {
        ClientTls tls = TlsContexts.forClient(client, TlsOptions.defaults());
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        tls.addTo(ch.pipeline(), "127.0.0.1", port);
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        try {
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (!ssl.handshakeFuture().await(10, TimeUnit.SECONDS)) throw new AssertionError("handshake timed out");
            if (!ssl.handshakeFuture().isSuccess()) throw new AssertionError("handshake failed", ssl.handshakeFuture().cause());
            return ((X509Certificate) ssl.engine().getSession().getPeerCertificates()[0]).getSerialNumber();
        } finally {
            ch.close().sync();
        }
    }
}
