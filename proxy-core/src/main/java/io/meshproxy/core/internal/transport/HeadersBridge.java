package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.Headers;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Lets the transport wrap and unwrap {@link Headers} without a Netty type in the public API: {@code Headers}
 * installs its accessor here when its class initialises.
 */
public final class HeadersBridge {
    /** The two conversions; implemented inside {@link Headers}. */
    public interface Access {
        Headers wrap(HttpHeaders headers);

        HttpHeaders unwrap(Headers headers);
    }

    private static volatile Access access;

    private HeadersBridge() {}

    public static void install(Access a) {
        access = a;
    }

    private static Access access() {
        Access a = access;
        if (a == null) {
            new Headers(); // initialises the class, which installs the accessor
            a = access;
        }
        return a;
    }

    public static Headers wrap(HttpHeaders headers) {
        return access().wrap(headers);
    }

    public static HttpHeaders unwrap(Headers headers) {
        return access().unwrap(headers);
    }
}
