package io.meshproxy.benchmarks;

import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.internal.transport.HeadersBridge;
import io.meshproxy.core.internal.transport.NettyHttp;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Header conversion between Netty's messages and the core's request and response ({@code internal.transport
 * .NettyHttp}), both directions, for a typical mesh request (11 header fields: tracing, request id, forwarded-for,
 * user agent, authorization...) and response (5 fields, 1 KB body).
 *
 * <ul>
 *   <li>HTTP/1.1, downstream: {@link #http1RequestToCore} (the listener's request head to the core's request: the
 *       headers are wrapped, not copied; {@code Host} becomes {@code :authority}, hop-by-hop fields go) and
 *       {@link #coreResponseToHttp1} (the core's response to the head sent downstream, framing fields set).</li>
 *   <li>HTTP/1.1, upstream: {@link #coreRequestToHttp1} and {@link #http1ResponseToCore}.</li>
 *   <li>HTTP/2, downstream: {@link #h2RequestToCore} (the HEADERS frame's {@link Http2Headers} to an HTTP/1.1-style
 *       head, which is what the listener's {@code Http2StreamFrameToHttpObjectCodec} does with
 *       {@link HttpConversionUtil}, then to the core's request) and {@link #coreResponseToH2} (back to
 *       {@link Http2Headers}).</li>
 * </ul>
 * The conversions that edit the Netty headers in place start from a fresh copy of a template each time;
 * {@link #http1HeadersCopy} is that copy alone, to subtract.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class HeaderConversionBenchmark {
    private HttpHeaders requestTemplate;
    private HttpHeaders responseTemplate;
    private Http2Headers h2Request;
    private HttpRequest coreRequest;
    private HttpResponse coreResponse;
    private final byte[] body = new byte[1024];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        requestTemplate = new DefaultHttpHeaders()
                .add("host", "reviews.default.svc.cluster.local:9080")
                .add("user-agent", "Go-http-client/1.1")
                .add("accept", "application/json")
                .add("authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig")
                .add("x-request-id", "8f8e9a4c-4c1e-4b77-9a0f-0d2b3c4d5e6f")
                .add("x-forwarded-for", "10.0.0.7")
                .add("x-forwarded-proto", "http")
                .add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .add("x-b3-traceid", "4bf92f3577b34da6a3ce929d0e0e4736")
                .add("x-b3-spanid", "00f067aa0ba902b7")
                .add("connection", "keep-alive");
        responseTemplate = new DefaultHttpHeaders()
                .add("content-type", "application/json")
                .add("content-length", "1024")
                .add("date", "Sun, 22 Nov 2026 08:40:00 GMT")
                .add("x-envoy-upstream-service-time", "3")
                .add("server", "istio-envoy");
        h2Request = new DefaultHttp2Headers()
                .method("GET").scheme("https").authority("reviews.default.svc.cluster.local:9080").path("/reviews/1");
        requestTemplate.forEach(e -> {
            String name = e.getKey().toLowerCase();
            if (!name.equals("host") && !name.equals("connection")) {
                h2Request.add(name, e.getValue());
            }
        });
        coreRequest = NettyHttp.toRequest(http1Request(), "http", Body.empty());
        coreResponse = new HttpResponse(200, HeadersBridge.wrap(responseTemplate.copy()), Body.of(body));
        if (!"reviews.default.svc.cluster.local:9080".equals(h2RequestToCore().authority())) {
            throw new IllegalStateException("HTTP/2 conversion lost :authority");
        }
    }

    private DefaultHttpRequest http1Request() {
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/reviews/1", requestTemplate.copy());
    }

    /** The baseline: a fresh request head with a copy of the template's headers. */
    @Benchmark
    public DefaultHttpRequest http1HeadersCopy() {
        return http1Request();
    }

    @Benchmark
    public HttpRequest http1RequestToCore() {
        return NettyHttp.toRequest(http1Request(), "http", Body.empty());
    }

    @Benchmark
    public io.netty.handler.codec.http.HttpRequest coreRequestToHttp1() {
        return NettyHttp.toNettyRequest(coreRequest, true);
    }

    @Benchmark
    public HttpResponse http1ResponseToCore() {
        return NettyHttp.toResponse(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                responseTemplate.copy()), Body.empty());
    }

    @Benchmark
    public io.netty.handler.codec.http.HttpResponse coreResponseToHttp1() {
        return NettyHttp.toNettyResponse(coreResponse, false, false, true, false);
    }

    @Benchmark
    public HttpRequest h2RequestToCore() throws Http2Exception {
        io.netty.handler.codec.http.HttpRequest head = HttpConversionUtil.toHttpRequest(1, h2Request, true);
        return NettyHttp.toRequest(head, "https", Body.empty());
    }

    @Benchmark
    public Http2Headers coreResponseToH2() {
        return HttpConversionUtil.toHttp2Headers(NettyHttp.toNettyResponse(coreResponse, false, false, false, false),
                true);
    }
}
