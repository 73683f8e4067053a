package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.BodySubscriber;
import io.meshproxy.core.http.BodySubscription;
import io.meshproxy.core.http.Headers;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;

/**
 * A body whose chunks arrive from a channel (a downstream request or an upstream response). Backpressure is
 * the channel's own: when chunks arrive that nobody has asked for, reading pauses ({@link Source#pause()});
 * when demand returns, reading resumes. So at most one read's worth of chunks is ever held here, and a
 * gigabyte streams through a few buffers.
 *
 * <p>Runs on the channel's event loop; {@code request} and {@code cancel} hop onto it when called elsewhere.
 * Every buffer it receives is either handed to the subscriber (who then owns it) or released here.
 */
public final class StreamBody implements Body {

    /** The reading side: the channel whose reads produce this body's chunks. */
    public interface Source {
        /** Stop reading: the subscriber is not keeping up. */
        void pause();

        /** Read again. */
        void resume();

        /** The subscriber cancelled: the rest of the body is not wanted. */
        void cancelled();
    }

    private static final Object END = new Object();

    private final EventLoop loop;
    private final Source source;
    private final long contentLength;
    private final ArrayDeque<Object> queue = new ArrayDeque<>(4);
    private BodySubscriber subscriber;
    private Headers trailers;
    private Throwable error;
    private long demand;
    private long bytesReceived;
    private boolean inputEnded;
    private boolean terminated;
    private boolean cancelled;
    private boolean draining;
    private boolean paused;

    public StreamBody(EventLoop loop, Source source, long contentLength) {
        this.loop = loop;
        this.source = source;
        this.contentLength = contentLength;
    }

    @Override
    public long contentLength() {
        return contentLength;
    }

    /** Body bytes received from the channel so far. */
    public long bytesReceived() {
        return bytesReceived;
    }

    /** Whether the last chunk has arrived (or the stream failed). */
    public boolean inputEnded() {
        return inputEnded;
    }

    /** Whether the subscriber has seen the end (completion, error or its own cancel). */
    public boolean finished() {
        return terminated || cancelled;
    }

    // ---- producer side, on the event loop ----

    /** A chunk from the channel; takes ownership of it. */
    public void onContent(HttpContent content) {
        assert loop.inEventLoop();
        ByteBuf buf = content.content();
        if (inputEnded || cancelled) {
            content.release();
            if (cancelled && content instanceof LastHttpContent) {
                inputEnded = true;
            }
            return;
        }
        int n = buf.readableBytes();
        bytesReceived += n;
        if (n > 0) {
            queue.add(buf);
        } else {
            buf.release();
        }
        if (content instanceof LastHttpContent last) {
            inputEnded = true;
            if (!last.trailingHeaders().isEmpty()) {
                trailers = HeadersBridge.wrap(last.trailingHeaders());
            }
            queue.add(END);
        }
        drain();
    }

    /** The stream failed (connection closed, reset, timeout); buffered chunks are dropped. */
    public void onError(Throwable cause) {
        assert loop.inEventLoop();
        if (inputEnded || cancelled) {
            return;
        }
        inputEnded = true;
        error = cause;
        releaseQueued();
        queue.add(cause);
        drain();
    }

    // ---- subscriber side ----

    @Override
    public void subscribe(BodySubscriber s) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> subscribe(s));
            return;
        }
        if (subscriber != null) {
            s.onSubscribe(NoopSubscription.INSTANCE);
            s.onError(new IllegalStateException("body already subscribed"));
            return;
        }
        subscriber = s;
        s.onSubscribe(new Subscription());
        drain();
    }

    private void drain() {
        if (draining || subscriber == null || terminated || cancelled) {
            updateReading();
            return;
        }
        draining = true;
        try {
            while (!queue.isEmpty() && !cancelled) {
                Object head = queue.peek();
                if (head instanceof ByteBuf buf) {
                    if (demand == 0) {
                        break;
                    }
                    queue.poll();
                    demand--;
                    subscriber.onData(new ByteBufData(buf));
                } else if (head == END) {
                    queue.poll();
                    terminated = true;
                    if (trailers != null) {
                        subscriber.onTrailers(trailers);
                    }
                    subscriber.onComplete();
                    break;
                } else {
                    queue.poll();
                    terminated = true;
                    subscriber.onError((Throwable) head);
                    break;
                }
            }
        } finally {
            draining = false;
        }
        updateReading();
    }

    private void updateReading() {
        if (inputEnded || cancelled) {
            return;
        }
        boolean wantPause = !queue.isEmpty() || demand == 0;
        if (wantPause && !paused) {
            paused = true;
            source.pause();
        } else if (!wantPause && paused) {
            paused = false;
            source.resume();
        }
    }

    private void releaseQueued() {
        Object o;
        while ((o = queue.poll()) != null) {
            if (o instanceof ByteBuf b) {
                b.release();
            }
        }
    }

    /** Releases whatever is buffered when the owner gives up on the body without a subscriber. */
    public void abandon() {
        assert loop.inEventLoop();
        if (!cancelled && !terminated) {
            cancelled = true;
            releaseQueued();
            source.cancelled();
        }
    }

    private final class Subscription implements BodySubscription {
        @Override
        public void request(long n) {
            if (!loop.inEventLoop()) {
                loop.execute(() -> request(n));
                return;
            }
            if (terminated || cancelled) {
                return;
            }
            if (n <= 0) {
                cancel();
                subscriber.onError(new IllegalArgumentException("request(" + n + ")"));
                return;
            }
            demand += n;
            if (demand < 0) {
                demand = Long.MAX_VALUE;
            }
            drain();
        }

        @Override
        public void cancel() {
            if (!loop.inEventLoop()) {
                loop.execute(this::cancel);
                return;
            }
            abandon();
        }
    }

    /** For a subscriber refused a second subscription. */
    static final class NoopSubscription implements BodySubscription {
        static final NoopSubscription INSTANCE = new NoopSubscription();

        @Override
        public void request(long n) {}

        @Override
        public void cancel() {}
    }

    @Override
    public String toString() {
        return "StreamBody[received=" + bytesReceived + ", ended=" + inputEnded + ", error=" + error + "]";
    }
}
