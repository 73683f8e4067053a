package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.HttpData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/** An {@link HttpData} over a Netty buffer; the data path hands the buffer on without copying. */
public final class ByteBufData implements HttpData {
    private final ByteBuf buf;

    public ByteBufData(ByteBuf buf) {
        this.buf = buf;
    }

    /** The buffer; ownership goes with this object. */
    public ByteBuf buf() {
        return buf;
    }

    /** The buffer behind any {@link HttpData}: ours unwrapped, anyone else's copied (and released). */
    public static ByteBuf toByteBuf(HttpData data) {
        if (data instanceof ByteBufData b) {
            return b.buf;
        }
        byte[] bytes = data.toByteArray();
        data.release();
        return io.netty.buffer.Unpooled.wrappedBuffer(bytes);
    }

    @Override
    public int length() {
        return buf.readableBytes();
    }

    @Override
    public byte[] toByteArray() {
        return ByteBufUtil.getBytes(buf);
    }

    @Override
    public void release() {
        buf.release();
    }

    @Override
    public String toString() {
        return "ByteBufData[" + buf.readableBytes() + "B]";
    }
}
