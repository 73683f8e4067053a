package io.meshproxy.core.http;

import io.meshproxy.core.internal.transport.ByteBufData;
import io.netty.buffer.Unpooled;

final class HttpDataSupport {
    private HttpDataSupport() {}

    static HttpData wrap(byte[] bytes) {
        return new ByteBufData(Unpooled.wrappedBuffer(bytes));
    }
}
