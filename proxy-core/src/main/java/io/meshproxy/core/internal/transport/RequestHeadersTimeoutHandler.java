package io.meshproxy.core.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Envoy's {@code request_headers_timeout} for HTTP/1.1: the clock starts at the first byte of a request and
 * stops when its headers are complete. On expiry a {@link #EVENT} travels down the pipeline and the
 * downstream handler answers 408. An idle keep-alive connection is not timed here (the idle timeout is).
 */
final class RequestHeadersTimeoutHandler extends ChannelInboundHandlerAdapter {
    static final Object EVENT = new Object() {
        @Override
        public String toString() {
            return "RequestHeadersTimeout";
        }
    };

    private final long timeoutNanos;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    private boolean awaitingRequest = true;

    RequestHeadersTimeoutHandler(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (awaitingRequest && timer == null && msg instanceof ByteBuf b && b.isReadable()) {
            timer = ctx.executor().schedule(this::expire, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        ctx.fireChannelRead(msg);
    }

    private void expire() {
        timer = null;
        if (awaitingRequest && ctx.channel().isActive()) {
            ctx.fireUserEventTriggered(EVENT);
        }
    }

    /** The request's headers are in. */
    void headersReceived() {
        awaitingRequest = false;
        cancel();
    }

    /** The exchange is over; the next byte starts a new request. */
    void exchangeFinished() {
        awaitingRequest = true;
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }
}
