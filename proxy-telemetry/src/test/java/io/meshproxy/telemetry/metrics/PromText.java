package io.meshproxy.telemetry.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A small parser of the Prometheus text exposition format (0.0.4) for tests: {@code name{k="v",...} value}
 * samples and {@code # TYPE} lines, and the few PromQL aggregations the reference documents' dashboards use
 * (sum by labels, {@code histogram_quantile}).
 */
final class PromText {
    record Sample(String name, Map<String, String> labels, double value) {
        String label(String key) {
            return labels.get(key);
        }
    }

    final List<Sample> samples = new ArrayList<>();
    final Map<String, String> types = new HashMap<>();

    static PromText parse(String text) {
        PromText p = new PromText();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ");
                p.types.put(parts[0], parts[1]);
                continue;
            }
            if (line.startsWith("#")) {
                continue;
            }
            int i = 0;
            while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
                i++;
            }
            String name = line.substring(0, i);
            Map<String, String> labels = new LinkedHashMap<>();
            if (line.charAt(i) == '{') {
                i++;
                while (line.charAt(i) != '}') {
                    int eq = line.indexOf('=', i);
                    String key = line.substring(i, eq);
                    if (line.charAt(eq + 1) != '"') {
                        throw new IllegalArgumentException("bad label in " + line);
                    }
                    StringBuilder v = new StringBuilder();
                    int j = eq + 2;
                    for (; line.charAt(j) != '"'; j++) {
                        char c = line.charAt(j);
                        if (c == '\\') {
                            char n = line.charAt(++j);
                            v.append(n == 'n' ? '\n' : n);
                        } else {
                            v.append(c);
                        }
                    }
                    labels.put(key, v.toString());
                    i = j + 1;
                    if (line.charAt(i) == ',') {
                        i++;
                    }
                }
                i++;
            }
            String rest = line.substring(i).trim();
            String value = rest.split(" ")[0];
            p.samples.add(new Sample(name, labels, switch (value) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(value);
            }));
        }
        return p;
    }

    List<Sample> named(String name) {
        return samples.stream().filter(s -> s.name.equals(name)).toList();
    }

    boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name.equals(name));
    }

    double sum(String name) {
        return sum(name, s -> true);
    }

    double sum(String name, Predicate<Sample> where) {
        return named(name).stream().filter(where).mapToDouble(Sample::value).sum();
    }

    /** PromQL {@code sum(name) by (key)}. */
    Map<String, Double> sumBy(String name, Function<Sample, String> key) {
        Map<String, Double> m = new TreeMap<>();
        for (Sample s : named(name)) {
            m.merge(key.apply(s), s.value, Double::sum);
        }
        return m;
    }

    /**
     * PromQL {@code histogram_quantile(q, sum(name_bucket) by (le))}: the cumulative buckets summed over every
     * series, then linear interpolation inside the bucket where the rank falls, as Prometheus does.
     */
    double histogramQuantile(double q, String name) {
        TreeMap<Double, Double> byLe = new TreeMap<>();
        for (Sample s : named(name + "_bucket")) {
            String le = s.label("le");
            byLe.merge(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), s.value, Double::sum);
        }
        double total = byLe.lastEntry().getValue();
        double rank = q * total;
        double prevBound = 0;
        double prevCount = 0;
        for (Map.Entry<Double, Double> e : byLe.entrySet()) {
            if (e.getValue() >= rank) {
                if (e.getKey().isInfinite()) {
                    return prevBound; // Prometheus answers the highest finite bound
                }
                double inBucket = e.getValue() - prevCount;
                return prevBound + (e.getKey() - prevBound) * (inBucket == 0 ? 0 : (rank - prevCount) / inBucket);
            }
            prevBound = e.getKey();
            prevCount = e.getValue();
        }
        return Double.NaN;
    }
}
