package io.meshproxy.core.http;

/**
 * Receives a {@link Body}'s chunks, in the order of a reactive stream: {@code onSubscribe}, then as many
 * {@code onData} as requested, then optionally {@code onTrailers}, then exactly one of {@code onComplete}
 * or {@code onError}. All signals arrive on the body's event loop, one at a time.
 */
public interface BodySubscriber {

    void onSubscribe(BodySubscription subscription);

    /** A chunk; the subscriber takes ownership and must release it or pass it on. */
    void onData(HttpData data);

    /** Trailing header fields (gRPC status, for example), at most once, just before {@link #onComplete()}. */
    default void onTrailers(Headers trailers) {}

    void onComplete();

    void onError(Throwable cause);
}
