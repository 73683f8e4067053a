package io.meshproxy.config.internal;

import java.math.BigDecimal;
import java.time.Duration;

/** Istio's duration syntax (Go's): one or more decimal numbers each with a unit: ns, us, µs, ms, s, m, h. */
final class Durations {
    private Durations() {}

    /** The duration, or null when {@code text} is not one (or negative). */
    static Duration parse(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        if (text.equals("0")) {
            return Duration.ZERO; // Go's one unit-less duration
        }
        BigDecimal nanos = BigDecimal.ZERO;
        int i = 0;
        while (i < text.length()) {
            int start = i;
            while (i < text.length() && (Character.isDigit(text.charAt(i)) || text.charAt(i) == '.')) {
                i++;
            }
            if (start == i) {
                return null;
            }
            BigDecimal number;
            try {
                number = new BigDecimal(text.substring(start, i));
            } catch (NumberFormatException e) {
                return null;
            }
            int unitStart = i;
            while (i < text.length() && !Character.isDigit(text.charAt(i)) && text.charAt(i) != '.') {
                i++;
            }
            long scale = switch (text.substring(unitStart, i)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> -1L;
            };
            if (scale < 0) {
                return null;
            }
            nanos = nanos.add(number.multiply(BigDecimal.valueOf(scale)));
        }
        try {
            return Duration.ofNanos(nanos.longValueExact());
        } catch (ArithmeticException e) {
            return null;
        }
    }
}
