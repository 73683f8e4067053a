package io.meshproxy.core.http;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * A message body as a stream of {@link HttpData} chunks with backpressure, optionally followed by trailers.
 * A body can be subscribed to once. A body that nobody will read must be {@link #discard() discarded}, so
 * its buffers and its connection are released.
 */
public interface Body {

    /** Starts the stream. A second subscriber gets {@code onError(IllegalStateException)}. */
    void subscribe(BodySubscriber subscriber);

    /** The length in bytes when known in advance (from {@code content-length}, or an in-memory body), else -1. */
    long contentLength();

    /** Reads and releases everything; for a body that will not be forwarded. */
    default void discard() {
        subscribe(new DiscardingSubscriber());
    }

    /**
     * Collects the whole body in memory, failing with {@link BodyTooLargeException} beyond {@code maxBytes}.
     * Meant for small bodies, tests and filters that must see a whole body; the data path itself streams.
     */
    default CompletableFuture<AggregatedBody> aggregate(int maxBytes) {
        AggregatingSubscriber s = new AggregatingSubscriber(maxBytes);
        subscribe(s);
        return s.result();
    }

    static Body empty() {
        return FixedBody.EMPTY;
    }

    static Body of(byte[] bytes) {
        return bytes.length == 0 ? FixedBody.EMPTY : new FixedBody(bytes, null);
    }

    static Body of(String utf8) {
        return of(utf8.getBytes(StandardCharsets.UTF_8));
    }

    /** An in-memory body followed by trailers. */
    static Body of(byte[] bytes, Headers trailers) {
        return new FixedBody(bytes, trailers);
    }
}
