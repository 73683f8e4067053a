package io.meshproxy.telemetry.tracing;

import static io.meshproxy.telemetry.tracing.TraceHeaders.ABSENT;
import static io.meshproxy.telemetry.tracing.TraceHeaders.DEBUG;
import static io.meshproxy.telemetry.tracing.TraceHeaders.FULL;
import static io.meshproxy.telemetry.tracing.TraceHeaders.MALFORMED;
import static io.meshproxy.telemetry.tracing.TraceHeaders.NOT_SAMPLED;
import static io.meshproxy.telemetry.tracing.TraceHeaders.SAMPLED;
import static io.meshproxy.telemetry.tracing.TraceHeaders.SAMPLING_ONLY;
import static io.meshproxy.telemetry.tracing.TraceHeaders.UNDECIDED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parsing and writing of W3C traceparent and B3 (single and multi), by their specifications' examples. */
class TraceHeadersTest {
    static final String W3C_EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void w3cTraceparentOfTheSpecification() {
        assertEquals(FULL, TraceHeaders.traceparentForm(W3C_EXAMPLE));
        assertEquals(SAMPLED, TraceHeaders.traceparentSampling(W3C_EXAMPLE));
        assertEquals(NOT_SAMPLED, TraceHeaders.traceparentSampling(W3C_EXAMPLE.replace("-01", "-00")));
        assertEquals(0x4bf92f3577b34da6L, TraceHeaders.traceparentTraceIdHigh(W3C_EXAMPLE));
        assertEquals(0xa3ce929d0e0e4736L, TraceHeaders.traceparentTraceIdLow(W3C_EXAMPLE));
        assertEquals(0x00f067aa0ba902b7L, TraceHeaders.traceparentSpanId(W3C_EXAMPLE));
        assertEquals(W3C_EXAMPLE, TraceHeaders.traceparent(0x4bf92f3577b34da6L, 0xa3ce929d0e0e4736L,
                0x00f067aa0ba902b7L, true));
        assertEquals(ABSENT, TraceHeaders.traceparentForm(null));
        // a later version may append fields after a dash
        assertEquals(FULL, TraceHeaders.traceparentForm("01" + W3C_EXAMPLE.substring(2) + "-what-the-future-holds"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",            // no flags
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",   // version 00 has exactly four fields
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",         // upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",         // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",         // zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // version ff
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",         // not hex
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",        // later version, no dash after flags
    })
    void malformedTraceparent(String v) {
        assertEquals(MALFORMED, TraceHeaders.traceparentForm(v), v);
    }

    @Test
    void b3SingleHeaderForms() {
        String full = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90";
        assertEquals(FULL, TraceHeaders.b3SingleForm(full));
        assertEquals(SAMPLED, TraceHeaders.b3SingleSampling(full));
        assertTrue(TraceHeaders.b3SingleTraceId128(full));
        assertEquals(0x80f198ee56343ba8L, TraceHeaders.b3SingleTraceIdHigh(full));
        assertEquals(0x64fe8b2a57d3eff7L, TraceHeaders.b3SingleTraceIdLow(full));
        assertEquals(0xe457b5a2e4d86bd1L, TraceHeaders.b3SingleSpanId(full));
        assertEquals(full, TraceHeaders.b3Single(0x80f198ee56343ba8L, 0x64fe8b2a57d3eff7L, true, 0xe457b5a2e4d86bd1L,
                SAMPLED, 0x05e3ac9a4f6e3b90L));

        String short64 = "64fe8b2a57d3eff7-e457b5a2e4d86bd1";
        assertEquals(FULL, TraceHeaders.b3SingleForm(short64));
        assertEquals(UNDECIDED, TraceHeaders.b3SingleSampling(short64), "no sampling state: deferred");
        assertFalse(TraceHeaders.b3SingleTraceId128(short64));
        assertEquals(0, TraceHeaders.b3SingleTraceIdHigh(short64));
        assertEquals(0x64fe8b2a57d3eff7L, TraceHeaders.b3SingleTraceIdLow(short64));

        assertEquals(DEBUG, TraceHeaders.b3SingleSampling("64fe8b2a57d3eff7-e457b5a2e4d86bd1-d"));
        assertEquals(NOT_SAMPLED, TraceHeaders.b3SingleSampling("64fe8b2a57d3eff7-e457b5a2e4d86bd1-0"));
        assertEquals("64fe8b2a57d3eff7-e457b5a2e4d86bd1-0",
                TraceHeaders.b3Single(0, 0x64fe8b2a57d3eff7L, false, 0xe457b5a2e4d86bd1L, NOT_SAMPLED, 0));

        for (String s : new String[] {"0", "1", "d"}) {
            assertEquals(SAMPLING_ONLY, TraceHeaders.b3SingleForm(s), s);
        }
        assertEquals(NOT_SAMPLED, TraceHeaders.b3SingleSampling("0"));
        assertEquals(ABSENT, TraceHeaders.b3SingleForm(null));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "x",
        "2",
        "64fe8b2a57d3eff7",                                        // no span id
        "64fe8b2a57d3eff7-e457b5a2e4d86bd",                        // short span id
        "64fe8b2a57d3eff-e457b5a2e4d86bd1",                        // 15-character trace id
        "0000000000000000-e457b5a2e4d86bd1",                       // zero trace id
        "64fe8b2a57d3eff7-0000000000000000",                       // zero span id
        "64fe8b2a57d3eff7-e457b5a2e4d86bd1-x",                     // bad sampling state
        "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1-",                    // empty parent
        "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b9",     // short parent
        "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-x",  // trailing garbage
        "64fe8b2a57d3eff7:e457b5a2e4d86bd1",
    })
    void malformedB3SingleHeader(String v) {
        assertEquals(MALFORMED, TraceHeaders.b3SingleForm(v), v);
    }

    @Test
    void b3MultiHeaders() {
        assertEquals(FULL, TraceHeaders.b3MultiForm("463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312", "1", null));
        assertEquals(FULL, TraceHeaders.b3MultiForm("463ac35c9f6413ad", "a2fb4a1d1a96d312", null, null));
        assertEquals(0x463ac35c9f6413adL, TraceHeaders.b3MultiTraceIdHigh("463ac35c9f6413ad48485a3953bb6124"));
        assertEquals(0x48485a3953bb6124L, TraceHeaders.b3MultiTraceIdLow("463ac35c9f6413ad48485a3953bb6124"));
        assertEquals(0, TraceHeaders.b3MultiTraceIdHigh("463ac35c9f6413ad"));

        assertEquals(MALFORMED, TraceHeaders.b3MultiForm("463ac35c9f6413ad", null, "1", null), "no span id");
        assertEquals(MALFORMED, TraceHeaders.b3MultiForm("463ac35c9f6413a", "a2fb4a1d1a96d312", null, null));
        assertEquals(MALFORMED, TraceHeaders.b3MultiForm("463ac35c9f6413ad-", "a2fb4a1d1a96d312", null, null));
        assertEquals(MALFORMED, TraceHeaders.b3MultiForm("463ac35c9f6413ad", "a2fb4a1d1a96d31z", null, null));
        assertEquals(MALFORMED, TraceHeaders.b3MultiForm(null, "a2fb4a1d1a96d312", null, null), "a span without a trace");
        assertEquals(SAMPLING_ONLY, TraceHeaders.b3MultiForm(null, null, "0", null));
        assertEquals(SAMPLING_ONLY, TraceHeaders.b3MultiForm(null, null, null, "1"));
        assertEquals(ABSENT, TraceHeaders.b3MultiForm(null, null, null, null));

        assertEquals(SAMPLED, TraceHeaders.b3MultiSampling("1", null));
        assertEquals(SAMPLED, TraceHeaders.b3MultiSampling("true", null));
        assertEquals(NOT_SAMPLED, TraceHeaders.b3MultiSampling("0", null));
        assertEquals(NOT_SAMPLED, TraceHeaders.b3MultiSampling("false", null));
        assertEquals(DEBUG, TraceHeaders.b3MultiSampling("0", "1"), "debug wins");
        assertEquals(UNDECIDED, TraceHeaders.b3MultiSampling(null, null));
        assertEquals(UNDECIDED, TraceHeaders.b3MultiSampling("maybe", "0"));
    }

    @Test
    void hexOfIds() {
        assertEquals("00000000000000ff", TraceHeaders.hex16(255));
        assertEquals("ffffffffffffffff", TraceHeaders.hex16(-1));
        assertEquals("0000000000000001000000000000000a", TraceHeaders.traceIdHex(1, 10, true));
        assertEquals("000000000000000a", TraceHeaders.traceIdHex(1, 10, false));
    }
}
