package io.meshproxy.benchmarks;

import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.LbPolicy;
import io.meshproxy.core.upstream.Host;
import io.meshproxy.core.upstream.LoadBalancer;
import java.util.ArrayList;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link LoadBalancer#pick()} per policy over 10 healthy hosts, with equal weights (all 1) and unequal
 * weights (1..10). Hosts carry a few active requests each (0..3), so least-request compares real counts.
 * A balancer belongs to one event loop, so the state is per benchmark thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LoadBalancerBenchmark {
    private static final int HOSTS = 10;

    @Param({"ROUND_ROBIN", "LEAST_REQUEST", "RANDOM"})
    public LbPolicy policy;

    /** {@code equal}: every weight 1; {@code unequal}: weights 1..10. */
    @Param({"equal", "unequal"})
    public String weights;

    private LoadBalancer balancer;

    @Setup(Level.Trial)
    public void setUp() {
        boolean equal = switch (weights) {
            case "equal" -> true;
            case "unequal" -> false;
            default -> throw new IllegalArgumentException("weights: equal or unequal, was " + weights);
        };
        List<Host> hosts = new ArrayList<>(HOSTS);
        for (int i = 0; i < HOSTS; i++) {
            // Never connected to: the balancer only reads addresses.
            Host host = new Host(EndpointConfig.builder()
                    .address("127.0.0.1")
                    .port(9001 + i)
                    .weight(equal ? 1 : i + 1)
                    .build());
            for (int r = 0; r < i % 4; r++) {
                host.requestStarted();
            }
            hosts.add(host);
        }
        balancer = LoadBalancer.create(policy, hosts);
        if (balancer.pick() == null) {
            throw new IllegalStateException("no host picked");
        }
    }

    @Benchmark
    public Host pick() {
        return balancer.pick();
    }
}
