package io.meshproxy.core.internal.transport;

/** Connections to one upstream host from one event loop. Not thread-safe: used only on its loop. */
public interface EndpointPool {

    /** Finds or opens a stream for {@code exchange}, then calls its {@code onStream} or {@code onAcquireFailed}. */
    void acquire(UpstreamExchange exchange);

    /** Open connections (for the admin API). */
    int connections();

    /** Closes every connection; in-flight exchanges see a reset. */
    void close();
}
