package io.meshproxy.core.http;

import java.nio.charset.StandardCharsets;

/**
 * A chunk of body bytes. A chunk is reference-counted off-heap memory when it comes from the network:
 * whoever receives one through {@link BodySubscriber#onData} owns it and must either pass it on (to a
 * writer, which then owns it) or {@link #release()} it exactly once.
 */
public interface HttpData {

    /** Number of readable bytes. */
    int length();

    default boolean isEmpty() {
        return length() == 0;
    }

    /** Copies the bytes out; does not release. */
    byte[] toByteArray();

    default String toStringUtf8() {
        return new String(toByteArray(), StandardCharsets.UTF_8);
    }

    /** Gives the memory back; call exactly once unless ownership passed on. */
    void release();

    /** A chunk over a heap array (not copied; do not modify the array afterwards). */
    static HttpData wrap(byte[] bytes) {
        return HttpDataSupport.wrap(bytes);
    }

    static HttpData ofUtf8(String text) {
        return wrap(text.getBytes(StandardCharsets.UTF_8));
    }
}
