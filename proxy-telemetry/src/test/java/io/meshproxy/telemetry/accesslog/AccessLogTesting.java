package io.meshproxy.telemetry.accesslog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestEventListener;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.telemetry.RequestTelemetry;
import io.meshproxy.telemetry.Telemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Shared by the access-log tests: the routes, the config, reading the log back. */
final class AccessLogTesting {
    static final ObjectMapper JSON = new ObjectMapper();

    private AccessLogTesting() {}

    /**
     * Listener "in": {@code /echo...} to cluster "backend" ({@code good}), {@code /retry...} to cluster "flaky"
     * ({@code bad} then {@code good}, one retry on 5xx; just {@code good} when {@code badPort} is 0), {@code /uh...} to cluster "empty" (no endpoints: 503 UH),
     * {@code /status...} to "backend"; anything else matches no route (404 NR).
     */
    static ProxyConfig proxyConfig(int goodPort, int badPort) {
        VirtualHost vh = VirtualHost.builder().name("all").domain("*")
                .route(route("echo", "/echo", RouteAction.to("backend")))
                .route(route("status", "/status", RouteAction.to("backend")))
                .route(route("delay", "/delay", RouteAction.to("backend")))
                .route(route("retry", "/retry", RouteAction.builder().cluster("flaky").retryPolicy(
                        RetryPolicy.builder().numRetries(1).retryOn(RetryOn.FIVE_XX).build()).build()))
                .route(route("uh", "/uh", RouteAction.to("empty")))
                .build();
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0)
                        .routes(RouteConfiguration.builder().name("routes").virtualHost(vh).build()).build())
                .cluster(ClusterConfig.builder().name("backend").endpoint("127.0.0.1", goodPort).build())
                .cluster(badPort <= 0
                        ? ClusterConfig.builder().name("flaky").endpoint("127.0.0.1", goodPort).build()
                        : ClusterConfig.builder().name("flaky").endpoint("127.0.0.1", badPort)
                                .endpoint("127.0.0.1", goodPort).build())
                .cluster(ClusterConfig.builder().name("empty").build())
                .build();
    }

    private static Route route(String name, String prefix, RouteAction action) {
        return Route.builder().name(name).match(RouteMatch.builder().pathPrefix(prefix).build()).action(action).build();
    }

    /** Telemetry with only access logs on (metrics off), to {@code file}. */
    static TelemetryConfig config(Path file, double samplingPercent, boolean alwaysLogErrors, int queueSize) {
        return new TelemetryConfig(null, null, new TelemetryConfig.Metrics(false, null, null, 10_000), null,
                new TelemetryConfig.AccessLog(file.toString(), samplingPercent, alwaysLogErrors, queueSize));
    }

    static AccessLogger accessLogger(Telemetry telemetry) {
        return telemetry.sinks().stream().filter(AccessLogger.class::isInstance).map(AccessLogger.class::cast)
                .findFirst().orElseThrow();
    }

    /** Every line of {@code file}, each parsed as one JSON object (a line that is not one fails the test). */
    static List<JsonNode> lines(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<JsonNode> parse(String text) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        if (text.isEmpty()) {
            return out;
        }
        if (!text.endsWith("\n")) {
            throw new AssertionError("the log does not end with a newline: " + text);
        }
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            JsonNode n = JSON.readTree(line);
            if (!n.isObject()) {
                throw new AssertionError("not a JSON object: " + line);
            }
            out.add(n);
        }
        return out;
    }

    /**
     * The part of {@link Telemetry}'s listener the access logger needs, around one {@link AccessLogger} built by
     * a test (with an output the test controls): creates the request's {@link RequestTelemetry} the same way
     * and forwards the events.
     */
    static final class SinkListener implements RequestEventListener {
        private final AccessLogger sink;

        SinkListener(AccessLogger sink) {
            this.sink = sink;
        }

        @Override
        public void onRequestStart(RequestContext ctx, HttpRequest request) {
            RequestTelemetry t = new RequestTelemetry();
            t.startNanos = ctx.startNanos();
            t.startEpochMicros = System.currentTimeMillis() * 1000;
            t.method = request.method();
            t.path = request.path();
            t.authority = request.authority();
            t.protocol = ctx.protocol();
            t.xForwardedFor = request.headers().get("x-forwarded-for");
            t.userAgent = request.headers().get("user-agent");
            ctx.eventState(t);
            sink.onRequestStart(t, ctx, request);
        }

        @Override
        public void onUpstreamRequest(RequestContext ctx, HttpRequest request, String cluster, String host,
                int attempt) {
            RequestTelemetry t = ctx.eventState();
            t.attempts = attempt;
            if (t.upstreamStartNanos == 0) {
                t.upstreamStartNanos = System.nanoTime();
            }
        }

        @Override
        public void onResponseHeaders(RequestContext ctx, HttpResponse response) {
            RequestTelemetry t = ctx.eventState();
            t.responseHeadersNanos = System.nanoTime();
        }

        @Override
        public void onRequestEnd(RequestContext ctx, RequestLog log) {
            sink.onRequestEnd(ctx.eventState(), ctx, log);
        }
    }
}
