package io.meshproxy.core.http;

/** An in-memory body: one chunk and optional trailers, emitted on the thread that requests them. */
class FixedBody implements Body {
    static final FixedBody EMPTY = new FixedBody(new byte[0], null) {
        @Override
        public void subscribe(BodySubscriber subscriber) {
            // The shared empty body may be subscribed to any number of times.
            new FixedBody(new byte[0], null).subscribe(subscriber);
        }
    };

    private final byte[] bytes;
    private final Headers trailers;
    private boolean subscribed;

    FixedBody(byte[] bytes, Headers trailers) {
        this.bytes = bytes;
        this.trailers = trailers;
    }

    @Override
    public long contentLength() {
        return bytes.length;
    }

    @Override
    public void subscribe(BodySubscriber subscriber) {
        synchronized (this) {
            if (subscribed) {
                subscriber.onSubscribe(Subscription.NOOP);
                subscriber.onError(new IllegalStateException("body already subscribed"));
                return;
            }
            subscribed = true;
        }
        Subscription s = new Subscription(subscriber);
        subscriber.onSubscribe(s);
    }

    /** Emits data (if any), trailers, completion; re-entrant request() calls are trampolined. */
    private final class Subscription implements BodySubscription {
        static final BodySubscription NOOP = new BodySubscription() {
            @Override
            public void request(long n) {}

            @Override
            public void cancel() {}
        };

        private final BodySubscriber subscriber;
        private long demand;
        private boolean dataSent;
        private boolean done;
        private boolean emitting;

        Subscription(BodySubscriber subscriber) {
            this.subscriber = subscriber;
        }

        @Override
        public synchronized void request(long n) {
            if (done) {
                return;
            }
            if (n <= 0) {
                done = true;
                subscriber.onError(new IllegalArgumentException("request(" + n + ")"));
                return;
            }
            demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            if (emitting) {
                return;
            }
            emitting = true;
            try {
                if (!dataSent && bytes.length > 0 && demand > 0) {
                    dataSent = true;
                    demand--;
                    subscriber.onData(HttpData.wrap(bytes));
                }
                if (!done && (dataSent || bytes.length == 0)) {
                    done = true;
                    if (trailers != null && !trailers.isEmpty()) {
                        subscriber.onTrailers(trailers);
                    }
                    subscriber.onComplete();
                }
            } finally {
                emitting = false;
            }
        }

        @Override
        public synchronized void cancel() {
            done = true;
        }
    }
}
