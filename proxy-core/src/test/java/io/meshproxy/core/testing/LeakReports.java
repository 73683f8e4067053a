package io.meshproxy.core.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;

/**
 * Makes Netty's leak detector report what has leaked so far. The detector notices a leaked buffer only
 * after the garbage collector has enqueued it and a later allocation polls the queue. So, a few times: drop a
 * canary object, request a collection, wait until the canary's reference is enqueued (a collection really
 * ran and references were processed), then allocate to make the detector poll.
 */
public final class LeakReports {
    private LeakReports() {}

    public static void provoke() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            ReferenceQueue<Object> queue = new ReferenceQueue<>();
            PhantomReference<Object> canary = new PhantomReference<>(new Object(), queue);
            for (int attempt = 0; attempt < 10 && queue.remove(100) == null; attempt++) {
                System.gc();
            }
            canary.clear();
            for (int j = 0; j < 64; j++) {
                ByteBuf d = PooledByteBufAllocator.DEFAULT.directBuffer(8);
                d.release();
                ByteBuf h = PooledByteBufAllocator.DEFAULT.heapBuffer(8);
                h.release();
            }
        }
    }
}
