package io.meshproxy.core.internal.transport;

import io.meshproxy.core.filter.RequestEventListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.net.InetSocketAddress;

/**
 * First in a downstream connection's pipeline when a {@link RequestEventListener} is registered: counts the
 * bytes on the wire each way and reports the connection's open and close. Added only then, so a proxy
 * without a listener pays nothing.
 */
final class ConnectionEvents extends ChannelDuplexHandler {
    private final String listenerName;
    private final RequestEventListener events;
    private long received;
    private long sent;
    private boolean open;

    ConnectionEvents(String listenerName, RequestEventListener events) {
        this.listenerName = listenerName;
        this.events = events;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        open = true;
        try {
            events.onConnectionOpen(listenerName, (InetSocketAddress) ctx.channel().remoteAddress(),
                    (InetSocketAddress) ctx.channel().localAddress());
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(ConnectionEvents.class).warn("request event listener failed", e);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        received += size(msg);
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        sent += size(msg);
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (open) {
            open = false;
            try {
                events.onConnectionClose(listenerName, (InetSocketAddress) ctx.channel().remoteAddress(),
                        (InetSocketAddress) ctx.channel().localAddress(), received, sent);
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(ConnectionEvents.class).warn("request event listener failed", e);
            }
        }
        ctx.fireChannelInactive();
    }

    private static long size(Object msg) {
        if (msg instanceof ByteBuf b) {
            return b.readableBytes();
        }
        if (msg instanceof ByteBufHolder h) {
            return h.content().readableBytes();
        }
        return 0;
    }
}
