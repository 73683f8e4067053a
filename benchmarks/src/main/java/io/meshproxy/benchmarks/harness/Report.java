package io.meshproxy.benchmarks.harness;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The harness's results and how they are written: a Markdown report (one table per scenario set) and a PNG of
 * the latency percentile curves, both under a dated name and under {@code harness-latest}. Every figure here is
 * computed from the run's measurements.
 */
public final class Report {
    /** One measured row: a scenario at a rate over some connections, all its repetitions added together. */
    public record Row(String scenario, int hops, int connections, int targetRate, OpenLoopLoad.Result result,
            double cpuSeconds, long peakRssKb) {
        /** CPU seconds of the proxy's processes per 1,000 responses; negative when not measured. */
        public double cpuPer1000() {
            long served = result.ok() + result.notOk();
            return cpuSeconds < 0 || served == 0 ? -1 : cpuSeconds / (served / 1000.0);
        }
    }

    /** A table: a title, what it shows, rows. */
    public record Table(String title, String method, List<Row> rows) {
        /** The direct row at the same connections and rate, or null. */
        public Row direct(Row r) {
            for (Row d : rows) {
                if (d.hops() == 0 && d.connections() == r.connections() && d.targetRate() == r.targetRate()) {
                    return d;
                }
            }
            return null;
        }
    }

    /** The max-throughput search of one scenario: each step's rate and whether it passed, and the best rate. */
    public record Search(String scenario, int best, double p99AtBestMs, List<String> steps, double cpuPer1000AtBest,
            long peakRssKb) {}

    private final String title;
    private final List<String> header = new ArrayList<>();
    private final List<Table> tables = new ArrayList<>();
    private final List<Search> searches = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private String searchMethod = "";

    public Report(String title) {
        this.title = title;
    }

    public Report header(String line) {
        header.add(line);
        return this;
    }

    public Report table(Table t) {
        tables.add(t);
        return this;
    }

    public Report searches(String method, List<Search> s) {
        searchMethod = method;
        searches.addAll(s);
        return this;
    }

    public Report note(String line) {
        notes.add(line);
        return this;
    }

    public List<Table> tables() {
        return tables;
    }

    public List<Search> searches() {
        return searches;
    }

    /** The Markdown text; {@code plot} is the PNG's file name to link (null: none). */
    public String markdown(String plot) {
        StringBuilder sb = new StringBuilder();
        sb.append("# ").append(title).append("\n\n");
        header.forEach(l -> sb.append(l).append('\n'));
        sb.append('\n');
        for (String n : notes) {
            sb.append("> ").append(n).append("\n\n");
        }
        if (plot != null) {
            sb.append("![latency percentiles](").append(plot).append(")\n\n");
        }
        for (Table t : tables) {
            sb.append("## ").append(t.title()).append("\n\n").append(t.method()).append("\n\n");
            sb.append("| scenario | conns | rate /s (achieved) | ok / other / errors / unfinished | p50 ms | p90 ms"
                    + " | p99 ms | p99.9 ms | added p50 per hop (total) | added p99 per hop (total)"
                    + " | CPU s / 1,000 req | peak RSS |\n");
            sb.append("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (Row r : t.rows()) {
                OpenLoopLoad.Result x = r.result();
                Row d = t.direct(r);
                sb.append("| ").append(r.scenario()).append(" | ").append(r.connections()).append(" | ")
                        .append(r.targetRate()).append(String.format(Locale.ROOT, " (%.0f)", x.achievedRate()))
                        .append(" | ").append(x.ok()).append(" / ").append(x.notOk()).append(" / ").append(x.errors())
                        .append(" / ").append(x.unfinished()).append(" | ")
                        .append(x.latencyMillis(50)).append(" | ").append(x.latencyMillis(90)).append(" | ")
                        .append(x.latencyMillis(99)).append(" | ").append(x.latencyMillis(99.9)).append(" | ")
                        .append(added(r, d, 50)).append(" | ").append(added(r, d, 99)).append(" | ")
                        .append(r.cpuPer1000() < 0 ? "n/a" : String.format(Locale.ROOT, "%.3f", r.cpuPer1000()))
                        .append(" | ").append(mib(r.peakRssKb())).append(" |\n");
            }
            sb.append('\n');
        }
        if (!searches.isEmpty()) {
            sb.append("## Maximum throughput with p99 under 1 ms\n\n").append(searchMethod).append("\n\n");
            sb.append("| scenario | highest rate /s with p99 < 1 ms | p99 there, ms | vs nginx | vs HAProxy"
                    + " | CPU s / 1,000 req there | peak RSS | steps (rate: pass ✓ / fail ✗) |\n");
            sb.append("|---|---:|---:|---:|---:|---:|---:|---|\n");
            Search nginx = search("nginx");
            Search haproxy = search("haproxy");
            for (Search s : searches) {
                sb.append("| ").append(s.scenario()).append(" | ").append(s.best() == 0 ? "none" : s.best())
                        .append(" | ").append(s.best() == 0 ? "n/a" : String.format(Locale.ROOT, "%.3f", s.p99AtBestMs()))
                        .append(" | ").append(ratio(s, nginx)).append(" | ").append(ratio(s, haproxy)).append(" | ")
                        .append(s.cpuPer1000AtBest() < 0 ? "n/a" : String.format(Locale.ROOT, "%.3f", s.cpuPer1000AtBest()))
                        .append(" | ").append(mib(s.peakRssKb())).append(" | ").append(String.join(", ", s.steps()))
                        .append(" |\n");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private Search search(String scenario) {
        for (Search s : searches) {
            if (s.scenario().equals(scenario)) {
                return s;
            }
        }
        return null;
    }

    private static String ratio(Search s, Search peer) {
        if (peer == null) {
            return "not run";
        }
        if (peer.best() == 0 || s.best() == 0) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%.2f×", s.best() / (double) peer.best());
    }

    /** Added latency at a percentile against the direct row: per hop, and the total when there are two hops. */
    static String added(Row r, Row direct, double percentile) {
        if (r.hops() == 0) {
            return "—";
        }
        if (direct == null) {
            return "n/a";
        }
        double total = r.result().latencyMs(percentile) - direct.result().latencyMs(percentile);
        if (r.hops() == 1) {
            return String.format(Locale.ROOT, "%+.3f", total);
        }
        return String.format(Locale.ROOT, "%+.3f (%+.3f)", total / r.hops(), total);
    }

    private static String mib(long kb) {
        return kb < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", kb / 1024.0);
    }

    /**
     * The percentile curves of {@code table}'s rows: x is the percentile on HdrHistogram's "nines" axis (the
     * value plotted is log10(1 / (1 − p)), the number of nines, labelled 0%, 90%, 99%, 99.9%…), y the latency
     * in ms. (XChart's log axis ignores a custom label function, and its label-function tick calculator can
     * loop forever on short ranges, so the logarithm is taken here and the axis title names the nines.)
     */
    public static XYChart plot(Table table) {
        XYChart chart = new XYChartBuilder().width(1000).height(600).title(table.title())
                .xAxisTitle("percentile, in nines: 1 = 90%, 2 = 99%, 3 = 99.9%, 4 = 99.99%, 5 = 99.999%").yAxisTitle("latency, ms (from the intended send time)").build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesColor(new Color(220, 220, 220));
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        chart.getStyler().setMarkerSize(0);
        Map<String, Integer> names = new LinkedHashMap<>();
        for (Row r : table.rows()) {
            if (r.result().latency().getTotalCount() == 0) {
                continue;
            }
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (HistogramIterationValue v : r.result().latency().percentiles(5)) {
                double p = v.getPercentileLevelIteratedTo();
                if (p >= 100.0) {
                    break;
                }
                xs.add(Math.log10(1.0 / (1.0 - p / 100.0)));
                ys.add(v.getValueIteratedTo() / 1000.0);
            }
            if (xs.isEmpty()) {
                continue;
            }
            String base = r.scenario() + (table.rows().stream().map(Row::scenario).distinct().count() < table.rows().size()
                    ? " (" + r.connections() + " conns)" : "");
            int n = names.merge(base, 1, Integer::sum);
            XYSeries s = chart.addSeries(n == 1 ? base : base + " #" + n, xs, ys);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineStyle(new BasicStroke(2f));
        }
        return chart;
    }

    /** What {@link #write} wrote. */
    public record Written(Path markdown, Path plot, Path latestMarkdown, Path latestPlot) {}

    /**
     * Writes {@code harness-STAMP.md} and {@code harness-STAMP.png} (the plot of the first table) to {@code dir},
     * and copies them to {@code harness-latest.md} / {@code .png}.
     */
    public Written write(Path dir, String stamp) throws IOException {
        Files.createDirectories(dir);
        Path png = dir.resolve("harness-" + stamp + ".png");
        Path md = dir.resolve("harness-" + stamp + ".md");
        Path latestPng = dir.resolve("harness-latest.png");
        Path latestMd = dir.resolve("harness-latest.md");
        boolean plotted = false;
        if (!tables.isEmpty()) {
            BitmapEncoder.saveBitmap(plot(tables.get(0)), png.toString(), BitmapEncoder.BitmapFormat.PNG);
            plotted = true;
        }
        Files.writeString(md, markdown(plotted ? png.getFileName().toString() : null));
        Files.writeString(latestMd, markdown(plotted ? latestPng.getFileName().toString() : null));
        if (plotted) {
            Files.copy(png, latestPng, StandardCopyOption.REPLACE_EXISTING);
        }
        return new Written(md, plotted ? png : null, latestMd, plotted ? latestPng : null);
    }
}
