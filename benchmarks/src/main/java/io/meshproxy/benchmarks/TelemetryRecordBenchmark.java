package io.meshproxy.benchmarks;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.telemetry.RequestTelemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.WorkloadInfo;
import io.meshproxy.telemetry.metrics.IstioMetrics;
import io.meshproxy.telemetry.tracing.Tracer;
import java.net.InetSocketAddress;
import java.util.Map;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-request work of proxy-telemetry, apart from the request path:
 * <ul>
 *   <li>{@link #recordMetrics}: {@link IstioMetrics#onRequestEnd}, recording one finished request in Istio's
 *       standard series ({@code istio_requests_total}, {@code istio_request_duration_milliseconds},
 *       {@code istio_request_bytes}, {@code istio_response_bytes}) whose labels are already known: the steady state
 *       of a sidecar. The requests cycle through four label combinations (200 and 503 UF, to two clusters).</li>
 *   <li>{@link #traceDecision}: {@link Tracer#onRequestStart} on a request, the tracer's sampling decision:
 *       {@link #incoming} says what trace context the request carries ({@code none}: a new trace, decided by the
 *       sampling percentage, and {@code x-b3-*} headers injected when not sampled; {@code b3-sampled} and
 *       {@code traceparent-unsampled}: the caller's decision is kept). Each request is new (the tracer edits its
 *       headers); {@link #newRequest} is that alone, to subtract.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TelemetryRecordBenchmark {
    private static final WorkloadInfo PRODUCTPAGE =
            new WorkloadInfo("productpage-v1", "default", "productpage", "v1", "bookinfo-productpage", null);

    /** Trace context the request arrives with. */
    @Param({"none", "b3-sampled", "traceparent-unsampled"})
    public String incoming;

    /** Tracing sampling percentage (Istio's default is 1). */
    @Param({"1.0"})
    public double samplingPercent;

    private IstioMetrics metrics;
    private Tracer tracer;
    private final RequestTelemetry telemetry = new RequestTelemetry();
    private RequestContext ok;
    private RequestContext failed;
    private RequestLog[] logs;
    private RequestContext[] contexts;
    private int next;
    private Headers template;

    @Setup(Level.Trial)
    public void setUp() {
        TelemetryConfig config = new TelemetryConfig(PRODUCTPAGE, Map.of("outbound", "source"), null,
                new TelemetryConfig.Tracing(samplingPercent, null, 1000, null), null);
        metrics = IstioMetrics.create(config, null);
        tracer = Tracer.create(config, span -> { });
        telemetry.reporter = "source";
        ok = new RequestContext("outbound", "HTTP/1.1", null, null, false, null, 0);
        failed = new RequestContext("outbound", "HTTP/1.1", null, null, false, null, 0);
        failed.addResponseFlag(io.meshproxy.core.http.ResponseFlag.UF);
        String reviews = "outbound|9080||reviews.default.svc.cluster.local";
        String ratings = "outbound|9080||ratings.default.svc.cluster.local";
        logs = new RequestLog[] {
            log(reviews, 200, "-"), log(reviews, 503, "UF"), log(ratings, 200, "-"), log(ratings, 503, "UF")};
        contexts = new RequestContext[] {ok, failed, ok, failed};
        template = switch (incoming) {
            case "none" -> Headers.of("user-agent", "Go-http-client/1.1");
            case "b3-sampled" -> Headers.of("user-agent", "Go-http-client/1.1",
                    "x-b3-traceid", "4bf92f3577b34da6a3ce929d0e0e4736", "x-b3-spanid", "00f067aa0ba902b7",
                    "x-b3-sampled", "1");
            case "traceparent-unsampled" -> Headers.of("user-agent", "Go-http-client/1.1",
                    "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
            default -> throw new IllegalArgumentException("incoming: none, b3-sampled or traceparent-unsampled");
        };
        for (int i = 0; i < logs.length; i++) {
            recordMetrics();
        }
        if (metrics.seriesCount() == 0) {
            throw new IllegalStateException("no series recorded");
        }
    }

    private static RequestLog log(String cluster, int status, String flags) {
        return new RequestLog("outbound", "HTTP/1.1", "GET", "reviews:9080", "/reviews/1", "id", "default", cluster,
                "10.0.0.9:9080", status, flags, "via_upstream", 0, 1024, 2_500_000);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        metrics.close();
        tracer.close();
    }

    @Benchmark
    public int recordMetrics() {
        int i = next;
        next = (i + 1) & 3;
        metrics.onRequestEnd(telemetry, contexts[i], logs[i]);
        return i;
    }

    @Benchmark
    public HttpRequest newRequest() {
        return new HttpRequest("GET", "http", "reviews:9080", "/reviews/1", template.copy(), null);
    }

    @Benchmark
    public Object traceDecision() {
        HttpRequest request = newRequest();
        telemetry.span = null;
        tracer.onRequestStart(telemetry, ok, request);
        return telemetry.span != null ? telemetry.span : request;
    }
}
