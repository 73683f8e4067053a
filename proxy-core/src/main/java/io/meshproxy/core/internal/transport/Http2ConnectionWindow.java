package io.meshproxy.core.internal.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;

/**
 * Raises an HTTP/2 connection's receive window to {@link #CONNECTION_WINDOW}, then steps aside. Place it after
 * the {@link Http2FrameCodec}.
 *
 * <p>Why: a stream's bytes return to the connection window only when the stream consumes them, and a stream
 * whose other side is slow stops consuming (that is the backpressure). Netty sizes the connection window at
 * about twice the stream window, so two stalled streams used to exhaust it and stall every other stream on the
 * connection — one gRPC channel with two slow calls blocked all its calls. With a window of 16 streams' worth,
 * it takes 16 stalled streams; buffered bytes stay bounded by the stream windows and by this window.
 */
final class Http2ConnectionWindow extends ChannelInboundHandlerAdapter {
    static final int CONNECTION_WINDOW = 16 * Http2Pool.STREAM_WINDOW;

    private boolean raised;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            raise(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        raise(ctx);
        ctx.fireChannelActive();
    }

    private void raise(ChannelHandlerContext ctx) {
        if (raised) {
            return;
        }
        raised = true;
        Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
        if (codec != null) {
            Http2Connection c = codec.connection();
            int delta = CONNECTION_WINDOW - c.local().flowController().windowSize(c.connectionStream());
            if (delta > 0) {
                ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(delta), ctx.voidPromise());
            }
        }
        ctx.pipeline().remove(this);
    }
}
