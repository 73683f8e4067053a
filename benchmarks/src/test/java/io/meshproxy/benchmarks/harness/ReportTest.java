package io.meshproxy.benchmarks.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report writer on known figures: the table's rows and columns, the per-hop arithmetic, a PNG that decodes. */
class ReportTest {

    /** {@code n} samples at each of {@code micros}. */
    private static OpenLoopLoad.Result result(long n, long... micros) {
        Histogram h = new Histogram(OpenLoopLoad.HIGHEST_MICROS, 3);
        for (long m : micros) {
            h.recordValueWithCount(m, n);
        }
        long count = h.getTotalCount();
        return new OpenLoopLoad.Result(h, h.copy(), new Histogram(OpenLoopLoad.HIGHEST_MICROS, 3), count, count, count,
                0, 0, 0, 1_000_000_000L, 0, 999_000_000L);
    }

    @Test
    void writesTheTableAndAPlotThatDecodes(@TempDir Path dir) throws Exception {
        Report.Table t = new Report.Table("Istio-like", "method text", List.of(
                new Report.Row("direct", 0, 16, 1000, result(500, 1000, 1500), -1, -1),
                new Report.Row("sidecar", 1, 16, 1000, result(500, 1250, 2000), 0.1, 50 * 1024),
                new Report.Row("sidecar-2hop-mtls", 2, 16, 1000, result(500, 1600, 2040), 0.3, 60 * 1024)));
        Report report = new Report("test report").header("- machine: test").table(t)
                .searches("search method", List.of(
                        new Report.Search("sidecar", 8000, 0.9, List.of("1000 ✓", "16000 ✗", "8000 ✓"), 0.05, 51200),
                        new Report.Search("nginx", 4000, 0.8, List.of("4000 ✓"), 0.02, 10240),
                        new Report.Search("haproxy", 16000, 0.7, List.of("16000 ✓"), 0.02, 10240)));
        Report.Written w = report.write(dir, "20261122-000000");

        String md = Files.readString(w.markdown());
        assertTrue(md.contains("| scenario | conns | rate /s (achieved) | ok / other / errors / unfinished | p50 ms | p90 ms"
                + " | p99 ms | p99.9 ms | added p50 per hop (total) | added p99 per hop (total) | CPU s / 1,000 req"
                + " | peak RSS |"), md);
        List<String> direct = LoadHarnessTest.row(md, "direct");
        assertEquals("1.000", direct.get(5));
        assertEquals("—", direct.get(9));
        List<String> sidecar = LoadHarnessTest.row(md, "sidecar");
        assertEquals("+0.250", sidecar.get(9), "p50 1.25 ms − 1.00 ms");
        assertEquals("+0.500", sidecar.get(10), "p99 2.0 ms − 1.5 ms (values below 2048 µs are exact in the histogram)");
        assertEquals("0.100", sidecar.get(11), "0.1 s of CPU for 1,000 requests");
        assertEquals("50.0 MiB", sidecar.get(12));
        List<String> twoHop = LoadHarnessTest.row(md, "sidecar-2hop-mtls");
        assertEquals("+0.300 (+0.600)", twoHop.get(9), "(1.6 − 1.0) / 2 per hop");
        assertTrue(md.contains("| sidecar | 8000 | 0.900 | 2.00× | 0.50× |"), md);
        assertTrue(md.contains("![latency percentiles](harness-20261122-000000.png)"), md);
        assertTrue(Files.readString(w.latestMarkdown()).contains("![latency percentiles](harness-latest.png)"));

        for (Path png : List.of(w.plot(), w.latestPlot())) {
            BufferedImage image = ImageIO.read(png.toFile());
            assertNotNull(image, png + " is not a PNG ImageIO can read");
            assertEquals(1000, image.getWidth());
            assertEquals(600, image.getHeight());
        }
    }
}
