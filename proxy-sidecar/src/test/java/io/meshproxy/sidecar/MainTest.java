package io.meshproxy.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.testing.TestUpstream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line, in-process: exit statuses and what goes to stdout and stderr. */
class MainTest {
    /** One run of the command line. */
    record Result(int status, String out, String err) {
        List<String> outLines() {
            return out.lines().toList();
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        return new Result(status, out.toString(), err.toString());
    }

    private static Path validConfig(Path dir) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), SidecarTest.PROXY.formatted(9));
        Files.writeString(dir.resolve("reviews.yaml"), SidecarTest.reviews(1, 2, SidecarTest.CANARY_THEN_V1));
        return dir;
    }

    @Test
    void validateSaysOkOnOneLine(@TempDir Path dir) throws Exception {
        Result r = run("validate", "-c", validConfig(dir).toString());
        assertEquals(0, r.status(), r.toString());
        assertEquals(1, r.outLines().size(), r.out());
        assertTrue(r.out().matches("OK: 2 files, version [0-9a-f]{12}: listeners outbound, inbound; \\d+ clusters\\R"),
                r.out());
    }

    @Test
    void validatePrintsEveryErrorWithItsPlace(@TempDir Path dir) throws Exception {
        validConfig(dir);
        Path reviews = dir.resolve("reviews.yaml");
        Files.writeString(reviews, Files.readString(reviews).replace("subset: v2", "subst: v2")
                .replace("{name: v1, labels: {version: v1}}", "{name: v1, labels: {version: v9}}"));
        Result r = run("validate", "-c", dir.toString());
        assertEquals(1, r.status(), r.toString());
        List<String> lines = r.outLines();
        assertTrue(lines.size() >= 2, r.out());
        assertEquals(lines.stream().sorted(MainTest::byPlace).toList(), lines, "sorted by file, line, column");
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(reviews + ":")
                && l.endsWith(": unknown field 'subst' in 'destination' (did you mean 'subset'?)")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(reviews + ":") && l.contains("v9")), r.out());
        for (String l : lines) {
            assertTrue(l.matches(".+:\\d+:\\d+: .+"), "FILE:LINE:COLUMN: message, was " + l);
        }
        assertEquals(lines.size() + " errors", r.err().strip());
    }

    @Test
    void validateWithFieldValidationWarnPrintsWarningsAndSucceeds(@TempDir Path dir) throws Exception {
        validConfig(dir);
        Path reviews = dir.resolve("reviews.yaml");
        Files.writeString(reviews, Files.readString(reviews).replace("subset: v2", "subset: v2, subst: v2"));
        assertEquals(1, run("validate", "-c", dir.toString()).status(), "strict by default");
        assertEquals(1, run("validate", "--field-validation=strict", "-c", dir.toString()).status());
        Result r = run("validate", "--field-validation=warn", "-c", dir.toString());
        assertEquals(0, r.status(), r.toString());
        List<String> lines = r.outLines();
        assertEquals(2, lines.size(), r.out());
        assertTrue(lines.get(0).startsWith(reviews + ":") && lines.get(0).matches(".+:\\d+:\\d+: warning: unknown field"
                + " 'subst' in 'destination' \\(did you mean 'subset'\\?\\)"), r.out());
        assertTrue(lines.get(1).startsWith("OK: "), r.out());
        assertEquals(2, run("validate", "--field-validation=loose", "-c", dir.toString()).status());
    }

    @Test
    void validateNamesAFileThatIsNotThere(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.yaml");
        Result r = run("validate", "-c", validConfig(dir).toString(), "-c", missing.toString());
        assertEquals(1, r.status(), r.toString());
        assertEquals(List.of(missing + ":1:1: no such file or directory"), r.outLines());
        assertEquals("1 error", r.err().strip());
    }

    @Test
    void runWithInvalidFilesPrintsTheErrorsAndExits1(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nope.yaml");
        Result r = run("run", "-c", missing.toString());
        assertEquals(1, r.status(), r.toString());
        assertEquals(missing + ":1:1: no such file or directory", r.err().strip());
        assertEquals("", r.out());
    }

    @Test
    void runThatCannotBindSaysWhyAndExits1(@TempDir Path dir) throws Exception {
        try (TestUpstream taken = TestUpstream.start("taken")) {
            Files.writeString(dir.resolve("proxy.yaml"), SidecarTest.PROXY.formatted(9).replaceFirst("port: 0, direction: OUTBOUND", "port: " + taken.port() + ", direction: OUTBOUND"));
            Files.writeString(dir.resolve("reviews.yaml"), SidecarTest.reviews(1, 2, SidecarTest.CANARY_THEN_V1));
            // Would serve until shut down if it could bind: give up rather than hang.
            Result r = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> run("run", "-c", dir.toString()));
            assertEquals(1, r.status(), r.toString());
            assertTrue(r.err().startsWith("meshproxy: cannot start listener 'outbound' on 127.0.0.1:" + taken.port()),
                    r.err());
        }
    }

    @Test
    void badArgumentsExit2WithUsage() {
        Result r = run("--log-level", "loud");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("unknown log level 'loud' (error, warn, info, debug, trace)"), r.err());
        assertTrue(r.err().contains("Usage: meshproxy"), r.err());

        Result noConfig = run("run");
        assertEquals(2, noConfig.status(), noConfig.toString());
        assertTrue(noConfig.err().contains("Missing required option: '--config=FILE_OR_DIR'"), noConfig.err());

        Result badPort = run("demo", "--admin-port", "70000");
        assertEquals(2, badPort.status(), badPort.toString());
        assertTrue(badPort.err().contains("--admin-port: 70000 is not a port"), badPort.err());
    }

    @Test
    void helpAndVersion() {
        Result help = run("--help");
        assertEquals(0, help.status());
        for (String command : new String[] {"demo", "run", "validate"}) {
            assertTrue(help.out().contains("\n  " + command + " "), help.out());
        }
        assertTrue(help.out().contains("--log-level=LEVEL"), help.out());
        Result runHelp = run("run", "--help");
        assertTrue(runHelp.out().contains("-c, --config=FILE_OR_DIR"), runHelp.out());
        assertTrue(runHelp.out().contains("--log-level=LEVEL"), "inherited: " + runHelp.out());
        Result version = run("--version");
        assertEquals(0, version.status());
        assertTrue(version.out().startsWith("meshproxy "), version.out());
    }

    @Test
    void logLevelsParseInAnyCase() {
        assertEquals(LogLevel.DEBUG, LogLevel.parse("debug"));
        assertEquals(LogLevel.WARN, LogLevel.parse(" WARN "));
    }

    /** Sorts FILE:LINE:COLUMN: lines the way ConfigError does. */
    private static int byPlace(String a, String b) {
        String[] x = a.split(":", 4);
        String[] y = b.split(":", 4);
        int c = x[0].compareTo(y[0]);
        if (c == 0) {
            c = Integer.compare(Integer.parseInt(x[1]), Integer.parseInt(y[1]));
        }
        if (c == 0) {
            c = Integer.compare(Integer.parseInt(x[2]), Integer.parseInt(y[2]));
        }
        return c;
    }
}
