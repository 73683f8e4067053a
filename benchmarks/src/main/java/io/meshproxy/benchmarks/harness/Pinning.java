package io.meshproxy.benchmarks.harness;

import java.util.List;

/**
 * Where the processes run, with {@code --pin}: the harness JVM (load generator, upstream, in-process mesh) on
 * the first half of the cores, every proxy on the other half, by {@code taskset} (util-linux) — the JVM by
 * {@code taskset -a -c -p CORES PID} on all its threads (threads started later inherit it), a proxy by
 * prefixing its command with {@code taskset -c CORES}. Without {@code --pin}, or with fewer than 2 cores, or
 * without {@code taskset}, nothing is pinned and the scheduler places everything.
 */
public record Pinning(boolean active, String harnessCores, String proxyCores, int proxyCoreCount, String note) {

    static Pinning plan(boolean wanted, int nproc) {
        if (!wanted) {
            return new Pinning(false, null, null, nproc, "none (no --pin): the scheduler places every process");
        }
        if (nproc < 2) {
            return new Pinning(false, null, null, nproc, "none: --pin needs at least 2 cores, this machine has "
                    + nproc);
        }
        if (!LoadHarness.onPath("taskset")) {
            return new Pinning(false, null, null, nproc, "none: --pin asked for, but taskset is not installed"
                    + " (apt-get install -y util-linux)");
        }
        int harness = Math.max(1, nproc / 2);
        String h = harness == 1 ? "0" : "0-" + (harness - 1);
        String p = harness == nproc - 1 ? Integer.toString(harness) : harness + "-" + (nproc - 1);
        return new Pinning(true, h, p, nproc - harness, "`taskset`: harness JVM (generator, upstream, in-process"
                + " mesh) on CPU " + h + ", every proxy process on CPU " + p);
    }

    /** The command prefix of a proxy process: {@code taskset -c CORES}, or nothing. */
    List<String> proxyPrefix() {
        return active ? List.of("taskset", "-c", proxyCores) : List.of();
    }

    /** Pins every thread of this JVM to the harness cores (when active). */
    void applyToThisJvm() throws InterruptedException {
        if (!active) {
            return;
        }
        String out = LoadHarness.firstLine("taskset", "-a", "-c", "-p", harnessCores,
                Long.toString(ProcessHandle.current().pid()));
        System.out.println("pinned this JVM: " + out);
    }

    String describe() {
        return note;
    }
}
