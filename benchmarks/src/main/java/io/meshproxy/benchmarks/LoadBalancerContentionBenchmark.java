package io.meshproxy.benchmarks;

import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.LbPolicy;
import io.meshproxy.core.upstream.Host;
import io.meshproxy.core.upstream.LoadBalancer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link LoadBalancer#pick()} as the event loops of a proxy run it: every benchmark thread has its own
 * balancer ({@link LoadBalancer#create}, as each event loop has one per cluster), and all of them pick from
 * the same 10 {@link Host}s, whose active-request counters are shared atomics. On one thread
 * ({@code pick}, {@code pickStartFinish}) and on one thread per core ({@code ...Contended},
 * {@link Threads#MAX}):
 * <ul>
 *   <li>{@code pick}: the pick alone. Round robin with equal weights reads only health; least request reads
 *       the active counts of two (equal weights) or all (unequal) hosts;</li>
 *   <li>{@code pickStartFinish}: the pick, then {@link Host#requestStarted()} and {@link Host#requestFinished()}
 *       on the picked host — the two atomic writes every request makes to a counter that every other loop
 *       reads and writes. This is where the cores contend: the counters' cache lines move between them.</li>
 * </ul>
 * Hosts start with 0..3 active requests each, as in {@link LoadBalancerBenchmark}; start and finish leave the
 * counts where they were. Average time, ns per operation. On the contended variants each thread is one event
 * loop going flat out, the worst case: real loops spend microseconds on each request between two picks.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LoadBalancerContentionBenchmark {
    private static final int HOSTS = 10;

    /** The cluster's hosts, shared by every benchmark thread (event loop). */
    @State(Scope.Benchmark)
    public static class Cluster {
        @Param({"ROUND_ROBIN", "LEAST_REQUEST"})
        public LbPolicy policy;

        /** {@code equal}: every weight 1; {@code unequal}: weights 1..10. */
        @Param({"equal", "unequal"})
        public String weights;

        List<Host> hosts;
        private int[] initialActive;

        @Setup(Level.Trial)
        public void setUp() {
            boolean equal = switch (weights) {
                case "equal" -> true;
                case "unequal" -> false;
                default -> throw new IllegalArgumentException("weights: equal or unequal, was " + weights);
            };
            List<Host> hs = new ArrayList<>(HOSTS);
            initialActive = new int[HOSTS];
            for (int i = 0; i < HOSTS; i++) {
                // Never connected to: the balancer only reads addresses, health and counts.
                Host host = new Host(EndpointConfig.builder()
                        .address("127.0.0.1")
                        .port(9001 + i)
                        .weight(equal ? 1 : i + 1)
                        .build());
                for (int r = 0; r < i % 4; r++) {
                    host.requestStarted();
                }
                initialActive[i] = host.activeRequests();
                hs.add(host);
            }
            hosts = Collections.unmodifiableList(hs);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            // Every start was matched by a finish: the counts are back where they started.
            for (int i = 0; i < HOSTS; i++) {
                if (hosts.get(i).activeRequests() != initialActive[i]) {
                    throw new IllegalStateException("host " + i + ": " + hosts.get(i).activeRequests()
                            + " active requests, expected " + initialActive[i]);
                }
            }
        }
    }

    /** One event loop's balancer over the shared hosts. */
    @State(Scope.Thread)
    public static class Loop {
        LoadBalancer balancer;

        @Setup(Level.Trial)
        public void setUp(Cluster cluster) {
            balancer = LoadBalancer.create(cluster.policy, cluster.hosts);
            if (balancer.pick() == null) {
                throw new IllegalStateException("no host picked");
            }
        }
    }

    @Benchmark
    @Threads(1)
    public Host pick(Loop loop) {
        return loop.balancer.pick();
    }

    @Benchmark
    @Threads(Threads.MAX)
    public Host pickContended(Loop loop) {
        return loop.balancer.pick();
    }

    @Benchmark
    @Threads(1)
    public Host pickStartFinish(Loop loop) {
        return pickAndCount(loop.balancer);
    }

    @Benchmark
    @Threads(Threads.MAX)
    public Host pickStartFinishContended(Loop loop) {
        return pickAndCount(loop.balancer);
    }

    private static Host pickAndCount(LoadBalancer balancer) {
        Host h = balancer.pick();
        h.requestStarted();
        h.requestFinished();
        return h;
    }
}
