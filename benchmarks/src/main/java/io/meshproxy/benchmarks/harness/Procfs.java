package io.meshproxy.benchmarks.harness;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What Linux says about a process, read from {@code /proc} (proc(5)): its CPU time ({@code utime + stime} of
 * {@code /proc/PID/stat}, in clock ticks), per thread ({@code /proc/PID/task}), and its memory
 * ({@code VmRSS}, {@code VmHWM} of {@code /proc/PID/status}). Shared by {@code SidecarFootprint} and the
 * {@link LoadHarness}: the proxy under test is a child process, and these are read from outside it, so the
 * proxy runs unmodified.
 */
public final class Procfs {
    private Procfs() {}

    /** CLK_TCK ({@code getconf CLK_TCK}), 100 if that cannot be run. */
    public static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return Long.parseLong(out);
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }

    /** utime + stime of /proc/PID/stat, in clock ticks. */
    public static long cpuTicks(long pid) throws IOException {
        return ticks(Files.readString(Path.of("/proc/" + pid + "/stat")));
    }

    /** utime + stime of a /proc stat line. */
    static long ticks(String stat) {
        // pid (comm) state ppid ...: comm may hold spaces and parentheses, so count from the last ')'.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
    }

    /**
     * CPU ticks of each thread of {@code pid}, summed by thread name with its numbers replaced by # ("GC Thread##",
     * "meshproxy-#-#"; the kernel keeps 15 characters of a name: "C2 CompilerThre"), from /proc/PID/task/TID/stat;
     * threads that end in between are missed.
     */
    public static Map<String, Long> ticksByThread(long pid) {
        Map<String, Long> out = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
                            .replaceAll("(?<=[-#])[0-9]+|[0-9]+$", "#");
                    out.merge(name, ticks(stat), Long::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread ended
                }
            }
        } catch (IOException e) {
            // the process ended
        }
        return out;
    }

    /** The threads that used the most CPU between two {@link #ticksByThread} readings: "name 1.23 s, ...". */
    public static String topThreads(Map<String, Long> before, Map<String, Long> after, long clockTicks, int n) {
        List<Map.Entry<String, Long>> deltas = new ArrayList<>();
        after.forEach((name, t) -> deltas.add(Map.entry(name, t - before.getOrDefault(name, 0L))));
        deltas.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Long> e : deltas.subList(0, Math.min(n, deltas.size()))) {
            if (e.getValue() > 0) {
                out.add(String.format(Locale.ROOT, "`%s` %.2f s", e.getKey(), e.getValue() / (double) clockTicks));
            }
        }
        return out.isEmpty() ? "none measurable" : String.join(", ", out);
    }

    /** VmRSS, VmHWM (kB) and Threads of /proc/PID/status. */
    public record ProcStatus(long rssKb, long hwmKb, int threads) {
        public static ProcStatus read(long pid) throws IOException {
            long rss = -1;
            long hwm = -1;
            int threads = -1;
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = kb(line);
                } else if (line.startsWith("VmHWM:")) {
                    hwm = kb(line);
                } else if (line.startsWith("Threads:")) {
                    threads = Integer.parseInt(line.substring(8).trim());
                }
            }
            if (rss < 0) {
                throw new IOException("no VmRSS in /proc/" + pid + "/status (a zombie?)");
            }
            return new ProcStatus(rss, hwm, threads);
        }

        private static long kb(String line) {
            return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
    }

    /** A loopback port free now (bound to port 0, then released). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The last {@code lines} lines of a text file (a child's log), or why it cannot be read. */
    public static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            StringBuilder sb = new StringBuilder();
            for (String l : all.subList(Math.max(0, all.size() - lines), all.size())) {
                sb.append(l).append('\n');
            }
            return sb.toString();
        } catch (IOException | RuntimeException e) {
            return "(cannot read " + file + ": " + e + ")\n";
        }
    }
}
