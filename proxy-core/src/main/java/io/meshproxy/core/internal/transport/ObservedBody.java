package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.BodySubscriber;
import io.meshproxy.core.http.BodySubscription;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpData;

/** A body that reports, once, how many bytes passed and whether it ended cleanly (and, if asked, each chunk). */
public final class ObservedBody implements Body {
    /** Told of the body's progress; {@link #ended} is called once, when the body ends, fails or is cancelled. */
    public interface Observer {
        void ended(long bytes, boolean ok);

        /** A chunk of {@code length} bytes passed. */
        default void chunk(int length) {}
    }

    private final Body delegate;
    private final Observer observer;

    public ObservedBody(Body delegate, Observer observer) {
        this.delegate = delegate;
        this.observer = observer;
    }

    @Override
    public long contentLength() {
        return delegate.contentLength();
    }

    @Override
    public void subscribe(BodySubscriber s) {
        delegate.subscribe(new BodySubscriber() {
            private long bytes;
            private boolean reported;

            private void report(boolean ok) {
                if (!reported) {
                    reported = true;
                    observer.ended(bytes, ok);
                }
            }

            @Override
            public void onSubscribe(BodySubscription subscription) {
                s.onSubscribe(new BodySubscription() {
                    @Override
                    public void request(long n) {
                        subscription.request(n);
                    }

                    @Override
                    public void cancel() {
                        subscription.cancel();
                        report(false);
                    }
                });
            }

            @Override
            public void onData(HttpData data) {
                bytes += data.length();
                observer.chunk(data.length());
                s.onData(data);
            }

            @Override
            public void onTrailers(Headers trailers) {
                s.onTrailers(trailers);
            }

            @Override
            public void onComplete() {
                report(true);
                s.onComplete();
            }

            @Override
            public void onError(Throwable cause) {
                report(false);
                s.onError(cause);
            }
        });
    }
}
