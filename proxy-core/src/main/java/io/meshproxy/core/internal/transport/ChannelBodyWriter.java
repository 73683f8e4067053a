package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.BodySubscriber;
import io.meshproxy.core.http.BodySubscription;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Writes a body into a channel as HTTP content, asking for the next chunk only while the channel is
 * writable: a slow reader on this side pauses the reading on the other. The owner forwards the channel's
 * writability changes to {@link #onWritabilityChanged()}. Signals from a body that publishes on another
 * thread (an application's own body) are moved onto the channel's event loop.
 */
public final class ChannelBodyWriter implements BodySubscriber {

    /** Told how the write ended; called on the channel's event loop. */
    public interface Outcome {
        void written(long bytes);

        void failed(Throwable cause);
    }

    private final Channel channel;
    private final Outcome outcome;
    private final Runnable flushTask = this::flushNow;
    private boolean flushPending;
    private BodySubscription subscription;
    private Headers trailers;
    private long bytes;
    private boolean waitingForWritability;
    private boolean done;

    public ChannelBodyWriter(Channel channel, Outcome outcome) {
        this.channel = channel;
        this.outcome = outcome;
    }

    public long bytesWritten() {
        return bytes;
    }

    /**
     * Writes the message head. It is flushed at the end of this event-loop turn, together with whatever
     * body chunks arrive in the same turn: a small message leaves in one write system call.
     */
    public void writeHead(Object head) {
        channel.write(head, channel.voidPromise());
        flushSoon();
    }

    private void flushSoon() {
        if (!flushPending) {
            flushPending = true;
            channel.eventLoop().execute(flushTask);
        }
    }

    private void flushNow() {
        flushPending = false;
        channel.flush();
    }

    @Override
    public void onSubscribe(BodySubscription s) {
        this.subscription = s;
        s.request(1);
    }

    @Override
    public void onData(HttpData data) {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> onData(data));
            return;
        }
        ByteBuf buf = ByteBufData.toByteBuf(data);
        if (done || !channel.isActive()) {
            buf.release();
            if (!done) {
                fail(new java.nio.channels.ClosedChannelException());
            }
            return;
        }
        bytes += buf.readableBytes();
        channel.write(new DefaultHttpContent(buf), channel.voidPromise());
        flushSoon();
        if (channel.isWritable()) {
            subscription.request(1);
        } else {
            waitingForWritability = true;
        }
    }

    /** The channel's writability changed; resumes the body when it can take more. */
    public void onWritabilityChanged() {
        if (waitingForWritability && channel.isWritable() && !done) {
            waitingForWritability = false;
            subscription.request(1);
        }
    }

    @Override
    public void onTrailers(Headers t) {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> onTrailers(t));
            return;
        }
        this.trailers = t;
    }

    @Override
    public void onComplete() {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(this::onComplete);
            return;
        }
        if (done) {
            return;
        }
        done = true;
        LastHttpContent last = trailers == null || trailers.isEmpty()
                ? LastHttpContent.EMPTY_LAST_CONTENT
                : new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, HeadersBridge.unwrap(trailers));
        if (!channel.isActive()) {
            outcome.failed(new java.nio.channels.ClosedChannelException());
            return;
        }
        channel.writeAndFlush(last).addListener(f -> {
            if (f.isSuccess()) {
                outcome.written(bytes);
            } else {
                outcome.failed(f.cause());
            }
        });
    }

    @Override
    public void onError(Throwable cause) {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> onError(cause));
            return;
        }
        if (!done) {
            done = true;
            outcome.failed(cause);
        }
    }

    /** Stops writing: the stream is being reset by its owner. */
    public void cancel() {
        if (!done) {
            done = true;
            if (subscription != null) {
                subscription.cancel();
            }
        }
    }

    private void fail(Throwable cause) {
        done = true;
        subscription.cancel();
        outcome.failed(cause);
    }
}
