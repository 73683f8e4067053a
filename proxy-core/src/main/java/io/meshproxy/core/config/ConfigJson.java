package io.meshproxy.core.config;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The effective configuration as JSON, for the admin {@code /config_dump} endpoint.
 *
 * <p>The shape is {@code {"listeners":[...],"clusters":[...],"admin":{...}}}: every record is an object
 * whose keys are its component names, in declaration order, with every default filled in (a missing value
 * is {@code null}). Lists are arrays; label maps are objects with sorted keys; enums print their name;
 * durations print as Envoy prints protobuf durations ({@code "10s"}, {@code "0.250s"}); an {@link Action}
 * starts with a {@code "type"} of {@code route}, {@code redirect} or {@code direct_response}.
 *
 * <p>proxy-core carries no JSON library, so this is a small writer of its own.
 */
public final class ConfigJson {
    private ConfigJson() {}

    /** {@code config} as compact JSON. */
    public static String toJson(ProxyConfig config) {
        StringBuilder out = new StringBuilder(1024);
        writeValue(out, config);
        return out.toString();
    }

    /** Any value this writer knows (records, lists, maps, strings, numbers, booleans, enums, durations) as JSON. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder(256);
        writeValue(out, value);
        return out.toString();
    }

    /**
     * {@code duration} as protobuf's JSON mapping prints it: seconds with 0, 3, 6 or 9 fractional digits and
     * an {@code s} suffix, for example {@code "10s"}, {@code "0.250s"}, {@code "1.000001s"}.
     */
    static String formatDuration(Duration duration) {
        if (duration.isNegative()) {
            return "-" + formatDuration(duration.negated());
        }
        long seconds = duration.getSeconds();
        int nanos = duration.getNano();
        if (nanos == 0) {
            return seconds + "s";
        }
        String fraction;
        if (nanos % 1_000_000 == 0) {
            fraction = String.format(Locale.ROOT, "%03d", nanos / 1_000_000);
        } else if (nanos % 1_000 == 0) {
            fraction = String.format(Locale.ROOT, "%06d", nanos / 1_000);
        } else {
            fraction = String.format(Locale.ROOT, "%09d", nanos);
        }
        return seconds + "." + fraction + "s";
    }

    private static void writeValue(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof String s) {
            writeString(out, s);
        } else if (value instanceof Boolean || value instanceof Integer || value instanceof Long) {
            out.append(value);
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            out.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d));
        } else if (value instanceof java.util.Set<?> set) {
            java.util.List<Object> sorted = new java.util.ArrayList<>(set);
            sorted.sort((a, b) -> a instanceof Comparable<?> ca ? compare(ca, b) : 0);
            writeValue(out, sorted);
        } else if (value instanceof Enum<?> e) {
            writeString(out, e.name());
        } else if (value instanceof Duration d) {
            writeString(out, formatDuration(d));
        } else if (value instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                writeValue(out, list.get(i));
            }
            out.append(']');
        } else if (value instanceof Map<?, ?> map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : new TreeMap<>(map).entrySet()) {
                first = writeMember(out, first, String.valueOf(e.getKey()), e.getValue());
            }
            out.append('}');
        } else if (value instanceof Record record) {
            writeRecord(out, record);
        } else {
            throw new IllegalStateException("no JSON form for " + value.getClass().getName());
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compare(Comparable a, Object b) {
        return a.compareTo(b);
    }

    private static void writeRecord(StringBuilder out, Record record) {
        out.append('{');
        boolean first = true;
        if (record instanceof Action action) {
            first = writeMember(out, first, "type", actionType(action));
        }
        for (RecordComponent component : record.getClass().getRecordComponents()) {
            first = writeMember(out, first, component.getName(), read(component, record));
        }
        out.append('}');
    }

    private static String actionType(Action action) {
        if (action instanceof RouteAction) {
            return "route";
        } else if (action instanceof RedirectAction) {
            return "redirect";
        } else {
            return "direct_response";
        }
    }

    private static Object read(RecordComponent component, Record record) {
        try {
            return component.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + component, e);
        }
    }

    private static boolean writeMember(StringBuilder out, boolean first, String name, Object value) {
        if (!first) {
            out.append(',');
        }
        writeString(out, name);
        out.append(':');
        writeValue(out, value);
        return false;
    }

    private static void writeString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
