package io.meshproxy.benchmarks.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness end to end on the scenarios that need no sidecar jar or peer (direct and the in-process
 * client), with an upstream made slow on purpose: the report's rows must show the slowness.
 */
class LoadHarnessTest {

    @Test
    void aDeliberatelySlowUpstreamShowsInTheReportRows(@TempDir Path out) throws Exception {
        LoadHarness.Options o = LoadHarness.Options.parse("--scenarios", "direct,in-process", "--sets", "istio",
                "--warmup", "0", "--reps", "1", "--step", "1", "--rate", "200", "--connections", "4",
                "--upstream-delay-ms", "5", "--workers", "1", "--out", out.toString());
        Report.Written w = LoadHarness.run(o);
        String md = Files.readString(w.latestMarkdown());
        for (String scenario : List.of("direct", "in-process")) {
            List<String> cells = row(md, scenario);
            double p50 = Double.parseDouble(cells.get(5));
            assertTrue(p50 >= 5.0, scenario + " p50 " + p50 + " ms with a 5 ms upstream:\n" + md);
            assertEquals("200 / 0 / 0 / 0", cells.get(4), scenario);
        }
        assertNotNull(w.plot());
        assertTrue(Files.size(w.latestPlot()) > 0);
    }

    @Test
    void badArgumentsAreRefusedClearly() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> LoadHarness.Options.parse("--scenarios", "direct,envoy"));
        assertTrue(e.getMessage().contains("'envoy' is not one of"), e.getMessage());
    }

    @Test
    void aMissingSidecarJarIsAClearError(@TempDir Path dir) {
        LoadHarness.Options o = LoadHarness.Options.parse("--scenarios", "direct,sidecar", "--jar",
                dir.resolve("nope.jar").toString(), "--out", dir.toString());
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> LoadHarness.run(o));
        assertTrue(e.getMessage().contains("nope.jar is missing: build it first"), e.getMessage());
    }

    /** The cells of the first table row naming {@code scenario}, trimmed, the scenario at index 1. */
    static List<String> row(String md, String scenario) {
        for (String line : md.split("\n")) {
            if (line.startsWith("| " + scenario + " |")) {
                return List.of(line.split("\\|", -1)).stream().map(String::trim).toList();
            }
        }
        throw new AssertionError("no row for " + scenario + " in:\n" + md);
    }
}
