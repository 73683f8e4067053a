package io.meshproxy.benchmarks;

import io.meshproxy.core.config.PathMatch;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.routing.CompiledRoute;
import io.meshproxy.core.routing.RouteTable;
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
 * {@link RouteTable#match} for a request that only the last route of its virtual host takes: the worst case
 * of first-match-wins. The routes before it cycle through exact, prefix and regex path matches on distinct
 * service paths ({@code /svc<i>/...}), so every one of them is evaluated and fails; the last route's kind is
 * a parameter. Virtual host selection ({@code *}) is included.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RouteMatchBenchmark {

    /** Routes in the virtual host. */
    @Param({"100", "10000"})
    public int routes;

    /** Path match kind of the last route, the one that matches. */
    @Param({"PREFIX", "EXACT", "REGEX"})
    public PathMatch.Kind lastRoute;

    private RouteTable table;
    private HttpRequest request;

    @Setup(Level.Trial)
    public void setUp() {
        VirtualHost.Builder host = VirtualHost.builder().name("bench").domain("*");
        for (int i = 0; i < routes - 1; i++) {
            host.route(route(i, PathMatch.Kind.values()[i % PathMatch.Kind.values().length]));
        }
        int last = routes - 1;
        host.route(route(last, lastRoute));
        table = RouteTable.compile(RouteConfiguration.builder().name("bench").virtualHost(host.build()).build());
        request = HttpRequest.get("reviews.bench", "/svc" + last + "/items/42?page=1");
        CompiledRoute matched = table.match(request);
        if (matched == null || !("r" + last).equals(matched.name())) {
            throw new IllegalStateException("expected route r" + last + " to match, got " + matched);
        }
    }

    private static Route route(int i, PathMatch.Kind kind) {
        String base = "/svc" + i + "/";
        PathMatch path = switch (kind) {
            case PREFIX -> PathMatch.prefix(base);
            case EXACT -> PathMatch.exact(base + "items/42");
            case REGEX -> PathMatch.regex(base + "items/[0-9]+");
        };
        return Route.builder()
                .name("r" + i)
                .match(RouteMatch.builder().path(path).build())
                .action(RouteAction.to("cluster" + (i % 10)))
                .build();
    }

    @Benchmark
    public CompiledRoute match() {
        return table.match(request);
    }
}
