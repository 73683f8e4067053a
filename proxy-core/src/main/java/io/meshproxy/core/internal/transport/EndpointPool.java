package io.meshproxy.core.internal.transport;

/** Connections to one upstream host from one event loop. Not thread-safe: used only on its loop. */
public interface EndpointPool {

    /** Finds or opens a stream for {@code exchange}, then calls its {@code onStream} or {@code onAcquireFailed}. */
    void acquire(UpstreamExchange exchange);

    /** Open connections (for the admin API). */
    int connections();

    /** Closes every connection; in-flight exchanges see a reset. */
    void close();

    /**
     * The cluster was replaced by a configuration update: idle connections close now, busy ones when their
     * exchanges end. Requests still arriving (they started under the old configuration) are served.
     */
    void retire();
}
