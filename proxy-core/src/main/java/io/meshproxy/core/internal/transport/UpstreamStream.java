package io.meshproxy.core.internal.transport;

import io.netty.channel.Channel;

/** One request's hold on an upstream: an HTTP/1.1 connection (exclusively) or one HTTP/2 stream. */
interface UpstreamStream {

    /** The channel carrying the exchange: the connection (HTTP/1.1) or the stream channel (HTTP/2). */
    Channel channel();

    boolean http2();

    /** Whether this connection served an earlier exchange (so it may have been closed by the peer meanwhile). */
    boolean reused();

    /** The exchange is over; {@code reusable}: both directions ended cleanly, the connection may serve again. */
    void release(boolean reusable);

    /** Abort: close the HTTP/1.1 connection, or reset the HTTP/2 stream. */
    void reset();
}
