package io.meshproxy.core.internal.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.meshproxy.core.config.TcpKeepalive;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.time.Duration;

/** Native epoll where it loads (Linux), NIO otherwise; {@code -Dmeshproxy.transport=nio} forces NIO. */
public final class Transport {
    private static final boolean EPOLL = !"nio".equalsIgnoreCase(System.getProperty("meshproxy.transport"))
            && Epoll.isAvailable();

    /**
     * Host names of endpoints (Istio's resolution DNS) are resolved asynchronously on the connecting event
     * loop, /etc/hosts first, answers cached for their TTL: Netty's default resolver would call the JDK's
     * blocking lookup on the event loop. IP literals need no lookup. One resolver per event loop, closed with it.
     */
    private static final AddressResolverGroup<InetSocketAddress> RESOLVER = new DnsAddressResolverGroup(
            new DnsNameResolverBuilder().datagramChannelType(datagramChannel()));

    private Transport() {}

    private static Class<? extends DatagramChannel> datagramChannel() {
        return EPOLL ? EpollDatagramChannel.class : NioDatagramChannel.class;
    }

    /** "epoll" or "nio". */
    public static String name() {
        return EPOLL ? "epoll" : "nio";
    }

    public static EventLoopGroup newGroup(int threads, String name) {
        IoHandlerFactory factory = EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), factory);
    }

    public static Class<? extends ServerChannel> serverChannel() {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /**
     * A bootstrap for upstream connections from {@code loop} (so they share the loop of the requests that use
     * them), with Nagle off and the cluster's connect timeout. Handlers are added once connected.
     */
    public static Bootstrap upstreamBootstrap(EventLoop loop, Duration connectTimeout) {
        return new Bootstrap().group(loop).channel(socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .resolver(RESOLVER)
                .handler(NoHandler.INSTANCE);
    }

    /**
     * As {@link #upstreamBootstrap(EventLoop, Duration)}, with TCP keep-alive probes when {@code keepalive} is
     * not null (Istio {@code tcp.tcpKeepalive}): SO_KEEPALIVE on, and on the native epoll transport
     * TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT from its time, interval and probes (whole seconds, rounded
     * up; a zero field keeps the operating system's value). On NIO (other platforms, or
     * {@code -Dmeshproxy.transport=nio}) only SO_KEEPALIVE is set and the operating system's timing applies.
     */
    public static Bootstrap upstreamBootstrap(EventLoop loop, Duration connectTimeout, TcpKeepalive keepalive) {
        Bootstrap b = upstreamBootstrap(loop, connectTimeout);
        if (keepalive == null) {
            return b;
        }
        b.option(ChannelOption.SO_KEEPALIVE, true);
        if (EPOLL) {
            if (!keepalive.time().isZero()) {
                b.option(EpollChannelOption.TCP_KEEPIDLE, seconds(keepalive.time()));
            }
            if (!keepalive.interval().isZero()) {
                b.option(EpollChannelOption.TCP_KEEPINTVL, seconds(keepalive.interval()));
            }
            if (keepalive.probes() > 0) {
                b.option(EpollChannelOption.TCP_KEEPCNT, keepalive.probes());
            }
        }
        return b;
    }

    private static int seconds(Duration d) {
        long s = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, s));
    }

    @ChannelHandler.Sharable
    private static final class NoHandler extends ChannelInboundHandlerAdapter {
        static final NoHandler INSTANCE = new NoHandler();
    }

    public static Class<? extends SocketChannel> socketChannel() {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
