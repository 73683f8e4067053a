package io.meshproxy.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** Real TLS over loopback: an echo server behind {@link ServerTls} and a one-message client. */
final class TlsLoopback implements AutoCloseable {
    static final String MESSAGE = "hello over mTLS";

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());

    /** What the server saw. */
    static final class ServerSide {
        final List<Optional<SpiffeId>> peers = new CopyOnWriteArrayList<>();
        final List<String> alpn = new CopyOnWriteArrayList<>();
        final AtomicLong applicationBytes = new AtomicLong();
        Channel channel;

        int port() {
            return ((InetSocketAddress) channel.localAddress()).getPort();
        }
    }

    /** What one client connection saw. */
    record Outcome(boolean handshakeOk, Throwable handshakeCause, String echoed, Optional<SpiffeId> serverId,
            String alpn) {}

    ServerSide server(ServerTls tls) throws InterruptedException {
        ServerSide side = new ServerSide();
        side.channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        tls.addTo(ch.pipeline());
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
                                    side.peers.add(TlsContexts.peerIdentity(ctx.channel()));
                                    String p = ctx.pipeline().get(SslHandler.class).applicationProtocol();
                                    side.alpn.add(String.valueOf(p));
                                }
                                ctx.fireUserEventTriggered(evt);
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                side.applicationBytes.addAndGet(((ByteBuf) msg).readableBytes());
                                ctx.writeAndFlush(msg);
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
        return side;
    }

    Outcome connect(ClientTls tls, int port) throws Exception {
        return connect(ch -> tls.addTo(ch.pipeline(), "127.0.0.1", port), port);
    }

    /** Connects, sends {@link #MESSAGE} after the handshake, waits for the echo or the close. */
    Outcome connect(Consumer<Channel> installTls, int port) throws Exception {
        CompletableFuture<String> echoed = new CompletableFuture<>();
        StringBuilder received = new StringBuilder();
        // Taken when installed: a server that refuses at once can close the channel, and empty its pipeline,
        // before connect() returns.
        CompletableFuture<SslHandler> installed = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        installTls.accept(ch);
                        installed.complete(ch.pipeline().get(SslHandler.class));
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
                                    ctx.writeAndFlush(Unpooled.copiedBuffer(MESSAGE, StandardCharsets.UTF_8));
                                }
                                ctx.fireUserEventTriggered(evt);
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ByteBuf buf = (ByteBuf) msg;
                                try {
                                    received.append(buf.toString(StandardCharsets.UTF_8));
                                } finally {
                                    buf.release();
                                }
                                if (received.length() >= MESSAGE.length()) {
                                    echoed.complete(received.toString());
                                }
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                echoed.complete(null);
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        SslHandler ssl = installed.get(10, TimeUnit.SECONDS);
        ssl.handshakeFuture().await(10, TimeUnit.SECONDS);
        String echo = echoed.get(10, TimeUnit.SECONDS);
        boolean ok = ssl.handshakeFuture().isSuccess();
        Outcome out = new Outcome(ok, ssl.handshakeFuture().cause(), echo, TlsContexts.peerIdentity(ch),
                String.valueOf(ssl.applicationProtocol()));
        ch.close().sync();
        return out;
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
