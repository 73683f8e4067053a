package io.meshproxy.config.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * A YAML mapping read against a declared set of fields. On creation every key is checked: not a scalar,
 * repeated, or not declared (with a did-you-mean) is an error. Getters read one field with its expected
 * type and report a wrong type, a missing required value or an out-of-range number at the value's place.
 * A field set to {@code null} (or left empty) counts as absent. Getters return null after an error, so
 * reading goes on and every error of a file is found in one pass.
 */
final class Obj {
    /** A string value and where it was written. */
    record Str(String value, Loc loc) {}

    /** An integer value and where it was written. */
    record Int(int value, Loc loc) {}

    private final Diagnostics diag;
    private final String file;
    private final Node node;
    private final String what;
    private final Map<String, Node> values = new LinkedHashMap<>();
    private final Map<String, Node> keys = new LinkedHashMap<>();

    private Obj(Diagnostics diag, String file, MappingNode node, String what, Collection<String> fields) {
        this.diag = diag;
        this.file = file;
        this.node = node;
        this.what = what;
        for (NodeTuple t : node.getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode sk)) {
                diag.error(Loc.of(file, k), "a field name must be a plain string");
                continue;
            }
            String name = sk.getValue();
            if (keys.containsKey(name)) {
                diag.error(Loc.of(file, k), "duplicate field '" + name + "', first set at line "
                        + Loc.of(file, keys.get(name)).line());
                continue;
            }
            if (!fields.contains(name)) {
                String hint = Names.suggestion(name, fields);
                String home = FieldHomes.home(name);
                if (hint.isEmpty() && home != null && !what.equals("'" + home + "'")) {
                    hint = " (it belongs in '" + home + "')";
                }
                diag.unknownField(Loc.of(file, k), "unknown field '" + name + "' in " + what + hint);
                continue;
            }
            keys.put(name, k);
            if (!isNull(t.getValueNode())) {
                values.put(name, t.getValueNode());
            }
        }
    }

    /** Reads {@code node} as a mapping of {@code fields}; null (after an error) when it is not a mapping. */
    static Obj of(Diagnostics diag, String file, Node node, String what, Collection<String> fields) {
        if (node instanceof MappingNode m) {
            return new Obj(diag, file, m, what, fields);
        }
        diag.error(Loc.of(file, node), what + " must be a mapping, got " + describe(node));
        return null;
    }

    static Obj of(Diagnostics diag, String file, Node node, String what, String... fields) {
        return of(diag, file, node, what, Set.of(fields));
    }

    String file() {
        return file;
    }

    /** Where this mapping starts. */
    Loc loc() {
        return Loc.of(file, node);
    }

    /** Where {@code field}'s key is written, or this mapping's place when absent. */
    Loc keyLoc(String field) {
        Node k = keys.get(field);
        return k == null ? loc() : Loc.of(file, k);
    }

    /** Where {@code field}'s value is written, or this mapping's place when absent. */
    Loc valueLoc(String field) {
        Node v = values.get(field);
        return v == null ? keyLoc(field) : Loc.of(file, v);
    }

    /** True when {@code field} is written with no value ({@code exact:} or {@code exact: null}). */
    boolean isSetToNull(String field) {
        return keys.containsKey(field) && !values.containsKey(field);
    }

    boolean has(String field) {
        return values.containsKey(field);
    }

    /** The fields set (to a non-null value), in the order written. */
    Set<String> fields() {
        return values.keySet();
    }

    Node raw(String field) {
        return values.get(field);
    }

    void error(String field, String message) {
        diag.error(valueLoc(field), message);
    }

    /** Reports {@code field} when set: parsed, but not implemented yet. */
    void unsupported(String field, String comesWith) {
        if (keys.containsKey(field)) {
            diag.error(keyLoc(field), "'" + field + "' is not supported yet" + (comesWith == null ? "" : " (" + comesWith + ")"));
        }
    }

    /** True (and an error reported) when {@code field} is absent. */
    boolean missing(String field) {
        if (!values.containsKey(field)) {
            diag.error(keyLoc(field), "missing required field '" + field + "' in " + what);
            return true;
        }
        return false;
    }

    Str str(String field) {
        Node v = values.get(field);
        if (v == null) {
            return null;
        }
        if (v instanceof ScalarNode s && s.getTag().equals(Tag.STR)) {
            return new Str(s.getValue(), Loc.of(file, v));
        }
        String hint = v instanceof ScalarNode s ? " (quote it: \"" + s.getValue() + "\")" : "";
        diag.error(Loc.of(file, v), "'" + field + "' must be a string, got " + describe(v) + hint);
        return null;
    }

    Str requiredStr(String field) {
        if (missing(field)) {
            return null;
        }
        Str s = str(field);
        if (s != null && s.value().isBlank()) {
            diag.error(s.loc(), "'" + field + "' must not be empty");
            return null;
        }
        return s;
    }

    /** A string that must be one of {@code allowed}; null when absent or wrong. */
    Str oneOf(String field, Collection<String> allowed) {
        Str s = str(field);
        if (s != null && !allowed.contains(s.value())) {
            diag.error(s.loc(), "'" + field + "' must be one of " + String.join(", ", allowed) + ", was '" + s.value()
                    + "'" + Names.suggestion(s.value(), allowed));
            return null;
        }
        return s;
    }

    Int integer(String field, long min, long max) {
        Node v = values.get(field);
        if (v == null) {
            return null;
        }
        if (!(v instanceof ScalarNode s) || !s.getTag().equals(Tag.INT)) {
            diag.error(Loc.of(file, v), "'" + field + "' must be an integer, got " + describe(v));
            return null;
        }
        long n;
        try {
            n = Long.decode(s.getValue().replace("_", ""));
        } catch (NumberFormatException e) {
            diag.error(Loc.of(file, v), "'" + field + "' must be an integer, got '" + s.getValue() + "'");
            return null;
        }
        if (n < min || n > max) {
            diag.error(Loc.of(file, v), "'" + field + "' must be in " + min + ".." + max + ", was " + n);
            return null;
        }
        return new Int((int) n, Loc.of(file, v));
    }

    /** A number (integer or decimal) in {@code min..max}; null when absent or wrong. */
    Double number(String field, double min, double max) {
        Node v = values.get(field);
        if (v == null) {
            return null;
        }
        if (!(v instanceof ScalarNode s) || !(s.getTag().equals(Tag.INT) || s.getTag().equals(Tag.FLOAT))) {
            diag.error(Loc.of(file, v), "'" + field + "' must be a number, got " + describe(v));
            return null;
        }
        double d;
        try {
            d = Double.parseDouble(s.getValue().replace("_", ""));
        } catch (NumberFormatException e) {
            diag.error(Loc.of(file, v), "'" + field + "' must be a number, got '" + s.getValue() + "'");
            return null;
        }
        if (!(d >= min && d <= max)) {
            diag.error(Loc.of(file, v), "'" + field + "' must be in " + plain(min) + ".." + plain(max) + ", was "
                    + s.getValue());
            return null;
        }
        return d;
    }

    private static String plain(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    /** A duration more than 0 (an Istio duration field that must be at least 1ms); null when absent or wrong. */
    Duration positiveDuration(String field) {
        Duration d = duration(field);
        if (d != null && d.isZero()) {
            error(field, "'" + field + "' must be more than 0");
            return null;
        }
        return d;
    }

    Boolean bool(String field) {
        Node v = values.get(field);
        if (v == null) {
            return null;
        }
        if (v instanceof ScalarNode s && s.getTag().equals(Tag.BOOL)) {
            return Boolean.parseBoolean(s.getValue().toLowerCase(java.util.Locale.ROOT));
        }
        diag.error(Loc.of(file, v), "'" + field + "' must be true or false, got " + describe(v));
        return null;
    }

    /** A duration written as Istio writes them ({@code 10s}, {@code 1.5s}, {@code 100ms}, {@code 1m30s}); not negative. */
    Duration duration(String field) {
        Str s = str(field);
        if (s == null) {
            return null;
        }
        Duration d = Durations.parse(s.value());
        if (d == null) {
            diag.error(s.loc(), "'" + field + "' must be a duration such as 10s, 1.5s, 250ms or 1m, was '" + s.value() + "'");
        }
        return d;
    }

    /** A regular expression that compiles. */
    Str regex(String field) {
        Str s = str(field);
        if (s == null) {
            return null;
        }
        try {
            Pattern.compile(s.value());
            return s;
        } catch (PatternSyntaxException e) {
            diag.error(s.loc(), "bad regular expression in '" + field + "': " + e.getDescription() + " near index "
                    + e.getIndex() + " of '" + s.value() + "'");
            return null;
        }
    }

    /** A sequence of regular expressions that compile; empty when absent, a bad one left out after its error. */
    List<Str> regexes(String field) {
        List<Str> out = new ArrayList<>();
        for (Str s : strs(field)) {
            try {
                Pattern.compile(s.value());
                out.add(s);
            } catch (PatternSyntaxException e) {
                diag.error(s.loc(), "bad regular expression in '" + field + "': " + e.getDescription() + " near index "
                        + e.getIndex() + " of '" + s.value() + "'");
            }
        }
        return out;
    }

    Obj obj(String field, Collection<String> fields) {
        Node v = values.get(field);
        return v == null ? null : of(diag, file, v, "'" + field + "'", fields);
    }

    Obj obj(String field, String... fields) {
        return obj(field, Set.of(fields));
    }

    /** A sequence of mappings; empty when absent. */
    List<Obj> objs(String field, Collection<String> fields) {
        List<Obj> out = new ArrayList<>();
        for (Node n : seq(field)) {
            Obj o = of(diag, file, n, "an entry of '" + field + "'", fields);
            if (o != null) {
                out.add(o);
            }
        }
        return out;
    }

    List<Obj> objs(String field, String... fields) {
        return objs(field, Set.of(fields));
    }

    /** A sequence of strings; empty when absent. */
    List<Str> strs(String field) {
        List<Str> out = new ArrayList<>();
        for (Node n : seq(field)) {
            if (n instanceof ScalarNode s && s.getTag().equals(Tag.STR)) {
                out.add(new Str(s.getValue(), Loc.of(file, n)));
            } else {
                diag.error(Loc.of(file, n), "an entry of '" + field + "' must be a string, got " + describe(n));
            }
        }
        return out;
    }

    private List<Node> seq(String field) {
        Node v = values.get(field);
        if (v == null) {
            return List.of();
        }
        if (v instanceof SequenceNode s) {
            return s.getValue();
        }
        diag.error(Loc.of(file, v), "'" + field + "' must be a list, got " + describe(v));
        return List.of();
    }

    /** A mapping of free names to nodes (header names, label keys); empty when absent. Keys are checked as strings. */
    Map<Str, Node> entries(String field) {
        Node v = values.get(field);
        Map<Str, Node> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        if (!(v instanceof MappingNode m)) {
            diag.error(Loc.of(file, v), "'" + field + "' must be a mapping, got " + describe(v));
            return out;
        }
        Set<String> seen = new LinkedHashSet<>();
        for (NodeTuple t : m.getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode sk) || sk.getValue().isEmpty()) {
                diag.error(Loc.of(file, k), "a key of '" + field + "' must be a non-empty string");
                continue;
            }
            if (!seen.add(sk.getValue())) {
                diag.error(Loc.of(file, k), "duplicate key '" + sk.getValue() + "' in '" + field + "'");
                continue;
            }
            out.put(new Str(sk.getValue(), Loc.of(file, k)), t.getValueNode());
        }
        return out;
    }

    /** A mapping of strings to strings (labels); values must be strings. Empty when absent. */
    Map<String, String> strMap(String field) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<Str, Node> e : entries(field).entrySet()) {
            Node n = e.getValue();
            if (n instanceof ScalarNode s && s.getTag().equals(Tag.STR)) {
                out.put(e.getKey().value(), s.getValue());
            } else {
                String hint = n instanceof ScalarNode s ? " (quote it: \"" + s.getValue() + "\")" : "";
                diag.error(Loc.of(file, n), "the value of '" + e.getKey().value() + "' in '" + field
                        + "' must be a string, got " + describe(n) + hint);
            }
        }
        return out;
    }

    static boolean isNull(Node n) {
        return n instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
    }

    static String describe(Node n) {
        if (n instanceof MappingNode) {
            return "a mapping";
        }
        if (n instanceof SequenceNode) {
            return "a list";
        }
        ScalarNode s = (ScalarNode) n;
        Tag t = s.getTag();
        String kind = t.equals(Tag.INT) ? "integer" : t.equals(Tag.FLOAT) ? "number" : t.equals(Tag.BOOL) ? "boolean"
                : t.equals(Tag.NULL) ? "null" : "string";
        return kind + " '" + s.getValue() + "'";
    }
}
