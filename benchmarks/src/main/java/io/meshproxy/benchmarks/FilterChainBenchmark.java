package io.meshproxy.benchmarks;

import io.meshproxy.core.filter.DefaultFilterChain;
import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
 * One request through the listener's filter chain as {@link DefaultFilterChain} builds it (request id, forwarded
 * headers, then the application's filters) to a terminal service that answers at once with a ready response: the
 * cost of the chain itself, without router, pool or socket.
 *
 * <ul>
 *   <li>{@link #chain}: a new request (its headers copied from a template, since the chain adds
 *       {@code x-request-id} and {@code x-forwarded-*} to them) and a new {@link RequestContext}, through the
 *       chain;</li>
 *   <li>{@link #terminalOnly}: the same new request and context straight to the terminal, the baseline to
 *       subtract.</li>
 * </ul>
 * {@link #userFilters}: {@code none} (the built-in filters only), {@code noop3} (three filters that only call the
 * next), {@code typical3} (a header check as an authorization filter makes, a response-header decoration on the
 * way back, and a completion callback as a logging or metrics filter registers).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class FilterChainBenchmark {
    private static final InetSocketAddress PEER = new InetSocketAddress("10.0.0.7", 41234);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("10.0.0.9", 15006);

    @Param({"none", "noop3", "typical3"})
    public String userFilters;

    private HttpService chain;
    private HttpService terminal;
    private Headers template;
    private long completions;

    @Setup(Level.Trial)
    public void setUp() {
        HttpResponse ready = HttpResponse.of(200);
        CompletableFuture<HttpResponse> answer = CompletableFuture.completedFuture(ready);
        terminal = (ctx, req) -> answer;
        List<HttpFilter> filters = switch (userFilters) {
            case "none" -> List.of();
            case "noop3" -> List.of(FilterChainBenchmark::pass, FilterChainBenchmark::pass, FilterChainBenchmark::pass);
            case "typical3" -> List.of(
                    (ctx, req, next) -> req.headers().contains("authorization") ? next.serve(ctx, req)
                            : CompletableFuture.completedFuture(HttpResponse.of(401)),
                    (ctx, req, next) -> next.serve(ctx, req).thenApply(r -> {
                        r.headers().set("x-served-by", "meshproxy");
                        return r;
                    }),
                    (ctx, req, next) -> next.serve(ctx, req).whenComplete((r, e) -> completions++));
            default -> throw new IllegalArgumentException("userFilters: none, noop3 or typical3");
        };
        chain = DefaultFilterChain.build(filters, terminal);
        template = Headers.of("user-agent", "curl/8.5.0", "accept", "application/json",
                "authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig", "x-b3-traceid", "4bf92f3577b34da6",
                "x-b3-spanid", "00f067aa0ba902b7", "x-b3-sampled", "0");
        HttpResponse r = chain.serve(context(), request()).toCompletableFuture().join();
        if (r.status() != 200) {
            throw new IllegalStateException("the chain answered " + r.status());
        }
    }

    private static CompletionStage<HttpResponse> pass(RequestContext ctx, HttpRequest req, HttpService next) {
        return next.serve(ctx, req);
    }

    private HttpRequest request() {
        return new HttpRequest("GET", "http", "reviews.default.svc.cluster.local:9080", "/reviews/1",
                template.copy(), null);
    }

    private static RequestContext context() {
        return new RequestContext("inbound", "HTTP/1.1", PEER, LOCAL, false, null, 0);
    }

    @Benchmark
    public CompletionStage<HttpResponse> chain() {
        return chain.serve(context(), request());
    }

    @Benchmark
    public CompletionStage<HttpResponse> terminalOnly() {
        return terminal.serve(context(), request());
    }
}
