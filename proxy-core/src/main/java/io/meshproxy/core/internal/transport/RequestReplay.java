package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.BodySubscriber;
import io.meshproxy.core.http.BodySubscription;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpData;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.ArrayList;

/**
 * Keeps a request body for retries: the downstream body is read once, as the attempts ask for it, and each
 * chunk is kept (up to {@code limit} bytes in all) so that a later attempt can be sent the same bytes again.
 * Each attempt gets its own {@link #nextAttempt() body}, which replays what was kept and then continues with
 * what still arrives. Once more than {@code limit} bytes arrive, or once the call {@link #commit() commits}
 * to its attempt, nothing more is kept: the current attempt streams on, but no later attempt is possible.
 *
 * <p>Lives on the request's event loop (signals from a body published elsewhere are moved onto it). Owns one
 * reference to every kept chunk and hands each attempt its own retained duplicate; {@link #close()} releases
 * what is left.
 */
final class RequestReplay implements BodySubscriber {
    private final Body source;
    private final EventLoop loop;
    private final int limit;
    /** Chunks not yet dropped; {@code chunks.get(i)} is chunk number {@code base + i} of the body. */
    private final ArrayList<ByteBuf> chunks = new ArrayList<>(4);
    private int base;
    private long kept;
    private boolean keeping = true;
    private boolean overflowed;
    private BodySubscription sourceSubscription;
    private boolean sourceSubscribed;
    private boolean sourceRequested;
    private boolean sourceDone;
    private Throwable sourceError;
    private Headers trailers;
    private Attempt current;
    private boolean closed;

    RequestReplay(Body source, EventLoop loop, int limit) {
        this.source = source;
        this.loop = loop;
        this.limit = limit;
    }

    /** Whether a new attempt can still be given the whole body. */
    boolean replayable() {
        return keeping && base == 0;
    }

    /** Whether the body outgrew the limit (so a wanted retry was abandoned). */
    boolean overflowed() {
        return overflowed;
    }

    /** A body for the next attempt; the previous attempt's body is detached (it gets nothing more). */
    Body nextAttempt() {
        assert replayable();
        if (current != null) {
            current.detach();
        }
        current = new Attempt();
        return current;
    }

    /** No more attempts will be made: keep nothing more and drop what the current attempt has sent. */
    void commit() {
        keeping = false;
        trim();
    }

    /**
     * The call is over: release every kept chunk; a source still streaming is read to its end and dropped,
     * as {@link Body#discard()} would, so a keep-alive downstream connection stays usable.
     */
    void close() {
        if (!loop.inEventLoop()) {
            loop.execute(this::close);
            return;
        }
        if (closed) {
            return;
        }
        closed = true;
        keeping = false;
        if (current != null) {
            current.detach();
            current = null;
        }
        releaseAll();
        if (!sourceSubscribed) {
            sourceSubscribed = true;
            source.discard();
        } else if (!sourceDone) {
            sourceRequested = true;
            sourceSubscription.request(Long.MAX_VALUE);
        }
    }

    private void releaseAll() {
        for (ByteBuf b : chunks) {
            b.release();
        }
        base += chunks.size();
        chunks.clear();
    }

    /** When nothing more is kept, chunks the current attempt has taken are no longer needed. */
    private void trim() {
        if (keeping) {
            return;
        }
        int taken = current == null ? chunks.size() : current.next - base;
        for (int i = 0; i < taken; i++) {
            chunks.get(i).release();
        }
        if (taken > 0) {
            chunks.subList(0, taken).clear();
            base += taken;
        }
    }

    private void demand() {
        if (!sourceSubscribed) {
            sourceSubscribed = true;
            source.subscribe(this);
            return;
        }
        if (!sourceDone && !sourceRequested && sourceSubscription != null) {
            sourceRequested = true;
            sourceSubscription.request(1);
        }
    }

    // ---- the source body's signals ----

    @Override
    public void onSubscribe(BodySubscription s) {
        sourceSubscription = s;
        if (closed) {
            sourceRequested = true;
            s.request(Long.MAX_VALUE);
            return;
        }
        if (current != null && current.demand > 0 && current.next == base + chunks.size()) {
            sourceRequested = true;
            s.request(1);
        }
    }

    @Override
    public void onData(HttpData data) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onData(data));
            return;
        }
        sourceRequested = false;
        ByteBuf buf = ByteBufData.toByteBuf(data);
        if (closed) {
            buf.release();
            return;
        }
        if (keeping && kept + buf.readableBytes() > limit) {
            keeping = false;
            overflowed = true;
        }
        kept += buf.readableBytes();
        chunks.add(buf);
        trimAndPump();
    }

    @Override
    public void onTrailers(Headers t) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onTrailers(t));
            return;
        }
        trailers = t;
    }

    @Override
    public void onComplete() {
        if (!loop.inEventLoop()) {
            loop.execute(this::onComplete);
            return;
        }
        sourceDone = true;
        trimAndPump();
    }

    @Override
    public void onError(Throwable cause) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onError(cause));
            return;
        }
        sourceDone = true;
        sourceError = cause;
        keeping = false; // a failed body is never sent again
        trimAndPump();
    }

    private void trimAndPump() {
        if (current != null) {
            current.pump();
        }
        trim();
    }

    /** One attempt's view of the body. */
    private final class Attempt implements Body, BodySubscription {
        private BodySubscriber subscriber;
        private long demand;
        private int next; // absolute chunk number to send next
        private boolean detached;
        private boolean ended;
        private boolean pumping;

        @Override
        public long contentLength() {
            return source.contentLength();
        }

        @Override
        public void subscribe(BodySubscriber s) {
            if (!loop.inEventLoop()) {
                loop.execute(() -> subscribe(s));
                return;
            }
            if (subscriber != null || detached) {
                s.onSubscribe(StreamBody.NoopSubscription.INSTANCE);
                s.onError(new IllegalStateException(detached ? "attempt abandoned" : "body already subscribed"));
                return;
            }
            subscriber = s;
            s.onSubscribe(this);
        }

        /** An attempt that never sent its body (it failed to get a connection) just lets go of it. */
        @Override
        public void discard() {
            detach();
        }

        @Override
        public void request(long n) {
            if (!loop.inEventLoop()) {
                loop.execute(() -> request(n));
                return;
            }
            if (detached || ended) {
                return;
            }
            demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            pump();
            trim();
        }

        @Override
        public void cancel() {
            if (!loop.inEventLoop()) {
                loop.execute(this::cancel);
                return;
            }
            detach();
        }

        void detach() {
            detached = true;
            demand = 0;
        }

        void pump() {
            if (pumping || detached || ended || subscriber == null) {
                return;
            }
            pumping = true;
            try {
                for (;;) {
                    while (demand > 0 && next < base + chunks.size() && !detached) {
                        ByteBuf b = chunks.get(next - base);
                        next++;
                        demand--;
                        subscriber.onData(new ByteBufData(b.retainedDuplicate()));
                    }
                    if (detached || next < base + chunks.size()) {
                        return; // detached, or waiting for demand
                    }
                    if (sourceDone) {
                        ended = true;
                        if (sourceError != null) {
                            subscriber.onError(sourceError);
                        } else {
                            if (trailers != null) {
                                subscriber.onTrailers(trailers);
                            }
                            subscriber.onComplete();
                        }
                        return;
                    }
                    if (demand == 0) {
                        return;
                    }
                    // Ask the source; it may answer at once (re-entering here), so look again afterwards.
                    int available = base + chunks.size();
                    demand();
                    if (base + chunks.size() == available && !sourceDone) {
                        return;
                    }
                }
            } finally {
                pumping = false;
            }
        }
    }
}
