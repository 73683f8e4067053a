package io.meshproxy.core.internal.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * The listener's idle timeout for a downstream HTTP/2 connection: when the connection's
 * {@link io.netty.handler.timeout.IdleStateHandler} reports it idle and no stream is open, it is closed
 * (gracefully: GOAWAY first). On HTTP/1.1 the downstream handler does the same.
 */
final class Http2IdleCloser extends ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
            if (codec == null || codec.connection().numActiveStreams() == 0) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
