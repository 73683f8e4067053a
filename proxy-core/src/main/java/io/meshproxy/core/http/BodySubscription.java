package io.meshproxy.core.http;

/** Demand for a {@link Body}: backpressure is nothing more than not asking for more. Callable from any thread. */
public interface BodySubscription {

    /** Asks for up to {@code n} more chunks. */
    void request(long n);

    /** Stops the stream; chunks already buffered are released by the body, not delivered. */
    void cancel();
}
