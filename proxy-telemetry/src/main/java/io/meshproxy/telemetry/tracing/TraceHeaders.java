package io.meshproxy.telemetry.tracing;

/**
 * The trace context headers an Istio sidecar reads and writes, parsed and written without regular expressions
 * and without allocating while parsing:
 * <ul>
 *   <li>W3C Trace Context: {@code traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>} (bit 0 of
 *       the flags: sampled) and {@code tracestate} (vendor data, passed through untouched);
 *   <li>B3 single header: {@code b3: <trace id>-<span id>[-<0|1|d>[-<parent span id>]]}, or only the sampling
 *       state {@code b3: 0|1|d};
 *   <li>B3 multi headers: {@code x-b3-traceid} (16 or 32 hex), {@code x-b3-spanid}, {@code x-b3-parentspanid},
 *       {@code x-b3-sampled} ({@code 1}/{@code 0}, or {@code true}/{@code false} from old tracers) and
 *       {@code x-b3-flags: 1} (debug: always sampled);
 *   <li>Envoy's {@code x-envoy-force-trace}: sample this trace whatever the sampling percentage says.
 * </ul>
 * A header that does not follow its format is malformed: it is ignored for extraction (the request starts a new
 * trace) and replaced on injection.
 */
final class TraceHeaders {
    static final String TRACEPARENT = "traceparent";
    static final String TRACESTATE = "tracestate";
    static final String B3 = "b3";
    static final String X_B3_TRACE_ID = "x-b3-traceid";
    static final String X_B3_SPAN_ID = "x-b3-spanid";
    static final String X_B3_PARENT_SPAN_ID = "x-b3-parentspanid";
    static final String X_B3_SAMPLED = "x-b3-sampled";
    static final String X_B3_FLAGS = "x-b3-flags";
    static final String FORCE_TRACE = "x-envoy-force-trace";

    /** Sampling state of a context: no decision was made upstream of us. */
    static final int UNDECIDED = -1;
    static final int NOT_SAMPLED = 0;
    static final int SAMPLED = 1;
    /** B3's debug flag: sampled, and the backend should keep it whatever its own sampling says. */
    static final int DEBUG = 2;

    /** What a request carried in one format: nothing, something malformed, only a sampling state, a full context. */
    static final int ABSENT = -1;
    static final int MALFORMED = 0;
    static final int SAMPLING_ONLY = 1;
    static final int FULL = 2;

    /** {@code 00-} + 32 + {@code -} + 16 + {@code -} + 2. */
    static final int TRACEPARENT_LENGTH = 55;

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private TraceHeaders() {}

    // ---- W3C traceparent ----

    /**
     * {@link #FULL} for a valid {@code traceparent} (version 00 exactly 55 characters; a later version at least
     * that, then a dash or the end; version ff is invalid; ids lower-case hex and not all zero), else
     * {@link #MALFORMED}; {@link #ABSENT} for null.
     */
    static int traceparentForm(String v) {
        if (v == null) {
            return ABSENT;
        }
        int n = v.length();
        if (n < TRACEPARENT_LENGTH || !isHex(v, 0, 2, true) || v.charAt(2) != '-' || v.charAt(35) != '-'
                || v.charAt(52) != '-' || !isHex(v, 3, 35, true) || !isHex(v, 36, 52, true) || !isHex(v, 53, 55, true)) {
            return MALFORMED;
        }
        boolean v00 = v.charAt(0) == '0' && v.charAt(1) == '0';
        if (v.charAt(0) == 'f' && v.charAt(1) == 'f') {
            return MALFORMED;
        }
        if (v00 ? n != TRACEPARENT_LENGTH : (n > TRACEPARENT_LENGTH && v.charAt(TRACEPARENT_LENGTH) != '-')) {
            return MALFORMED;
        }
        if (isZero(v, 3, 35) || isZero(v, 36, 52)) {
            return MALFORMED;
        }
        return FULL;
    }

    /** The sampled flag of a valid {@code traceparent}. */
    static int traceparentSampling(String v) {
        return (hexDigit(v.charAt(54)) & 1) != 0 ? SAMPLED : NOT_SAMPLED;
    }

    static long traceparentTraceIdHigh(String v) {
        return parseHex(v, 3, 19);
    }

    static long traceparentTraceIdLow(String v) {
        return parseHex(v, 19, 35);
    }

    static long traceparentSpanId(String v) {
        return parseHex(v, 36, 52);
    }

    /** A version-00 {@code traceparent} naming {@code spanId} as the parent of the next hop. */
    static String traceparent(long traceIdHigh, long traceIdLow, long spanId, boolean sampled) {
        char[] c = new char[TRACEPARENT_LENGTH];
        c[0] = '0';
        c[1] = '0';
        c[2] = '-';
        hex(traceIdHigh, c, 3);
        hex(traceIdLow, c, 19);
        c[35] = '-';
        hex(spanId, c, 36);
        c[52] = '-';
        c[53] = '0';
        c[54] = sampled ? '1' : '0';
        return new String(c);
    }

    // ---- B3 single header ----

    /** {@link #FULL}, {@link #SAMPLING_ONLY} ({@code 0}, {@code 1}, {@code d}), {@link #MALFORMED} or {@link #ABSENT}. */
    static int b3SingleForm(String v) {
        if (v == null) {
            return ABSENT;
        }
        int n = v.length();
        if (n == 1) {
            return samplingChar(v.charAt(0)) != UNDECIDED ? SAMPLING_ONLY : MALFORMED;
        }
        int tid = b3TraceIdLength(v);
        if (tid == 0 || n < tid + 17 || v.charAt(tid) != '-' || !validId(v, tid + 1, tid + 17)) {
            return MALFORMED;
        }
        int at = tid + 17;
        if (n == at) {
            return FULL;
        }
        if (v.charAt(at) != '-' || n < at + 2 || samplingChar(v.charAt(at + 1)) == UNDECIDED) {
            return MALFORMED;
        }
        at += 2;
        if (n == at) {
            return FULL;
        }
        return v.charAt(at) == '-' && n == at + 17 && validId(v, at + 1, at + 17) ? FULL : MALFORMED;
    }

    /** The sampling state of a valid {@code b3} header ({@link #UNDECIDED} when it has none). */
    static int b3SingleSampling(String v) {
        if (v.length() == 1) {
            return samplingChar(v.charAt(0));
        }
        int at = b3TraceIdLength(v) + 17;
        return v.length() > at ? samplingChar(v.charAt(at + 1)) : UNDECIDED;
    }

    /** Whether the trace id of a valid full {@code b3} header has 128 bits (32 hex characters). */
    static boolean b3SingleTraceId128(String v) {
        return b3TraceIdLength(v) == 32;
    }

    static long b3SingleTraceIdHigh(String v) {
        return b3TraceIdLength(v) == 32 ? parseHex(v, 0, 16) : 0;
    }

    static long b3SingleTraceIdLow(String v) {
        int tid = b3TraceIdLength(v);
        return parseHex(v, tid - 16, tid);
    }

    static long b3SingleSpanId(String v) {
        int tid = b3TraceIdLength(v);
        return parseHex(v, tid + 1, tid + 17);
    }

    /**
     * A full {@code b3} header: {@code <trace id>-<spanId>-<1|0|d>[-<parentId>]}, the trace id in 16 or 32 hex
     * characters as it arrived.
     */
    static String b3Single(long traceIdHigh, long traceIdLow, boolean traceId128, long spanId, int sampling,
            long parentId) {
        int tid = traceId128 ? 32 : 16;
        char[] c = new char[tid + 19 + (parentId != 0 ? 17 : 0)];
        int at = 0;
        if (traceId128) {
            hex(traceIdHigh, c, 0);
            at = 16;
        }
        hex(traceIdLow, c, at);
        at += 16;
        c[at++] = '-';
        hex(spanId, c, at);
        at += 16;
        c[at++] = '-';
        c[at++] = sampling == DEBUG ? 'd' : sampling == SAMPLED ? '1' : '0';
        if (parentId != 0) {
            c[at++] = '-';
            hex(parentId, c, at);
        }
        return new String(c);
    }

    // ---- B3 multi headers ----

    /**
     * {@link #FULL} when {@code x-b3-traceid} and {@code x-b3-spanid} are valid, {@link #MALFORMED} when a trace id
     * came but the pair is not valid, {@link #SAMPLING_ONLY} when only {@code x-b3-sampled} / {@code x-b3-flags}
     * came, else {@link #ABSENT}.
     */
    static int b3MultiForm(String traceId, String spanId, String sampled, String flags) {
        if (traceId == null) {
            if (spanId != null) {
                return MALFORMED;
            }
            return sampled != null || flags != null ? SAMPLING_ONLY : ABSENT;
        }
        if (b3TraceIdLength(traceId) != traceId.length() || spanId == null || spanId.length() != 16
                || !validId(spanId, 0, 16)) {
            return MALFORMED;
        }
        return FULL;
    }

    /** The sampling state of {@code x-b3-sampled} and {@code x-b3-flags}. */
    static int b3MultiSampling(String sampled, String flags) {
        if (flags != null && flags.equals("1")) {
            return DEBUG;
        }
        if (sampled == null) {
            return UNDECIDED;
        }
        if (sampled.equals("1") || sampled.equalsIgnoreCase("true")) {
            return SAMPLED;
        }
        if (sampled.equals("0") || sampled.equalsIgnoreCase("false")) {
            return NOT_SAMPLED;
        }
        return UNDECIDED;
    }

    static long b3MultiTraceIdHigh(String traceId) {
        return traceId.length() == 32 ? parseHex(traceId, 0, 16) : 0;
    }

    static long b3MultiTraceIdLow(String traceId) {
        return parseHex(traceId, traceId.length() - 16, traceId.length());
    }

    // ---- hex ----

    /** 16 lower-case hex characters. */
    static String hex16(long v) {
        char[] c = new char[16];
        hex(v, c, 0);
        return new String(c);
    }

    /** The trace id as Zipkin and B3 write it: 32 hex characters for 128 bits, else 16. */
    static String traceIdHex(long high, long low, boolean traceId128) {
        char[] c = new char[traceId128 ? 32 : 16];
        int at = 0;
        if (traceId128) {
            hex(high, c, 0);
            at = 16;
        }
        hex(low, c, at);
        return new String(c);
    }

    static void hex(long v, char[] out, int offset) {
        for (int i = offset + 15; i >= offset; i--) {
            out[i] = HEX[(int) (v & 0xF)];
            v >>>= 4;
        }
    }

    /** A B3 trace id's length in characters (16 or 32) when its first 16 or 32 characters are one, else 0. */
    private static int b3TraceIdLength(String v) {
        int n = v.length();
        if (n >= 32 && validHex(v, 0, 32) && (n == 32 || v.charAt(32) == '-') && !isZero(v, 0, 32)) {
            return 32;
        }
        if (n >= 16 && validHex(v, 0, 16) && (n == 16 || v.charAt(16) == '-') && !isZero(v, 0, 16)) {
            return 16;
        }
        return 0;
    }

    private static boolean validId(String v, int from, int to) {
        return validHex(v, from, to) && !isZero(v, from, to);
    }

    /** B3 ids are hex; upper case is accepted from lenient tracers. */
    private static boolean validHex(String v, int from, int to) {
        return isHex(v, from, to, false);
    }

    private static boolean isHex(String v, int from, int to, boolean lowerOnly) {
        for (int i = from; i < to; i++) {
            char ch = v.charAt(i);
            boolean ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (!lowerOnly && ch >= 'A' && ch <= 'F');
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean isZero(String v, int from, int to) {
        for (int i = from; i < to; i++) {
            if (v.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }

    private static int samplingChar(char c) {
        return switch (c) {
            case '1' -> SAMPLED;
            case '0' -> NOT_SAMPLED;
            case 'd' -> DEBUG;
            default -> UNDECIDED;
        };
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return c - 'A' + 10;
    }

    /** The value of validated hex characters {@code [from, to)}, at most 16 of them. */
    static long parseHex(String v, int from, int to) {
        long r = 0;
        for (int i = from; i < to; i++) {
            r = (r << 4) | hexDigit(v.charAt(i));
        }
        return r;
    }
}
