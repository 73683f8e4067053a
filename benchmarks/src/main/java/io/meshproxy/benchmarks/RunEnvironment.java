package io.meshproxy.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * Where and when a run happened, for the header of a results file: the date, the processors the JVM sees
 * ({@code nproc}), the CPU model, the load average, the JVM. A figure means nothing without them.
 */
public final class RunEnvironment {
    private RunEnvironment() {}

    /** {@code 2026-11-22 08:40 UTC}. */
    public static String now() {
        return ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT));
    }

    /** {@code 2026-11-22}. */
    public static String today() {
        return ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE);
    }

    /** Processors available to this JVM: what {@code nproc} prints. */
    public static int nproc() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** The first {@code model name} of /proc/cpuinfo, or {@code os.arch}. */
    public static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    /** The 1, 5 and 15 minute load averages of /proc/loadavg, or "n/a". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    /** {@code OpenJDK 64-Bit Server VM 17.0.15+6-Debian-1deb12u1}. */
    public static String jvm() {
        return System.getProperty("java.vm.name") + " " + Runtime.version();
    }

    /** Markdown list items describing the machine, the JVM and the load average at {@code loadAtStart}. */
    public static List<String> describe(String loadAtStart) {
        return List.of(
                "- date: " + now(),
                "- machine: `nproc` = " + nproc() + ", " + cpuModel() + ", " + System.getProperty("os.name") + " "
                        + System.getProperty("os.version"),
                "- JVM: " + jvm(),
                "- load average (1/5/15 min): " + loadAtStart + " at start, " + loadAverage() + " at end");
    }

    /**
     * Prints {@link #describe}'s date, machine and JVM, and the load average now, for the header and footer of a JMH results file:
     * {@code java -cp benchmarks/target/benchmarks.jar io.meshproxy.benchmarks.RunEnvironment}.
     */
    public static void main(String[] args) {
        List<String> lines = describe(loadAverage());
        lines.subList(0, lines.size() - 1).forEach(System.out::println);
        System.out.println("- load average (1/5/15 min): " + loadAverage());
    }

    /** Writes {@code text} to {@code file}, creating its directory. */
    public static void write(Path file, String text) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, text);
    }
}
