package io.meshproxy.core.filter;

import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Envoy's {@code x-request-id}: kept when the client sent one, otherwise a random UUID (version 4) is
 * generated, so the request can be followed through logs and traces of every hop.
 */
public final class RequestIdFilter implements HttpFilter {
    public static final String HEADER = "x-request-id";
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    @Override
    public CompletionStage<HttpResponse> filter(RequestContext ctx, HttpRequest request, HttpService next) {
        String id = request.headers().get(HEADER);
        if (id == null || id.isEmpty()) {
            id = randomUuid();
            request.headers().set(HEADER, id);
        }
        ctx.requestId(id);
        return next.serve(ctx, request);
    }

    /** A version-4 UUID from the thread's non-blocking random source (SecureRandom would contend). */
    static String randomUuid() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
        long lsb = (r.nextLong() & ~(0xC000L << 48)) | (0x8000L << 48);
        char[] c = new char[36];
        hex(msb >>> 32, c, 0, 8);
        c[8] = '-';
        hex(msb >>> 16, c, 9, 4);
        c[13] = '-';
        hex(msb, c, 14, 4);
        c[18] = '-';
        hex(lsb >>> 48, c, 19, 4);
        c[23] = '-';
        hex(lsb, c, 24, 12);
        return new String(c);
    }

    private static void hex(long value, char[] out, int offset, int digits) {
        for (int i = digits - 1; i >= 0; i--) {
            out[offset + i] = HEX[(int) (value & 0xF)];
            value >>>= 4;
        }
    }
}
