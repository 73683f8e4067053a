package io.meshproxy.telemetry;

import io.meshproxy.core.AdminEndpoint;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestEventListener;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.upstream.Cluster;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * meshproxy's telemetry: Istio's standard metrics, sampled tracing and sampled access logs, as one
 * {@link RequestEventListener} for {@link io.meshproxy.core.MeshProxy.Builder#eventListener} plus the admin
 * endpoints ({@code /stats/prometheus}, {@code /stats}) for {@link io.meshproxy.core.MeshProxy.Builder#adminEndpoint}.
 *
 * <pre>{@code
 * Telemetry telemetry = Telemetry.create(config, null);          // or the application's own MeterRegistry
 * MeshProxy.Builder b = MeshProxy.builder().config(proxyConfig).eventListener(telemetry.listener());
 * telemetry.adminEndpoints().forEach(b::adminEndpoint);
 * MeshProxy proxy = b.build().start();
 * telemetry.bindClusters(proxy::clusters);                        // Envoy-style cluster stats
 * }</pre>
 */
public final class Telemetry implements AutoCloseable {
    private final TelemetryConfig config;
    private final List<TelemetrySink> sinks;
    private final TelemetrySink[] sinkArray;
    private final Map<String, AdminEndpoint> adminEndpoints;
    private final RequestEventListener listener;
    private final io.meshproxy.telemetry.metrics.IstioMetrics metrics;
    /** Wall-clock microseconds at {@link #nanoBase}: start times are this plus the monotonic time since, so they
     *  have microsecond precision and never jump with the wall clock (as Brave and Envoy time spans). */
    private final long epochMicrosBase;
    private final long nanoBase;

    private Telemetry(TelemetryConfig config, io.micrometer.core.instrument.MeterRegistry registry) {
        this.config = config;
        this.nanoBase = System.nanoTime();
        this.epochMicrosBase = java.time.temporal.ChronoUnit.MICROS.between(java.time.Instant.EPOCH,
                java.time.Instant.now());
        List<TelemetrySink> s = new ArrayList<>(3);
        Map<String, AdminEndpoint> endpoints = new LinkedHashMap<>();
        if (config.metrics().enabled()) {
            metrics = io.meshproxy.telemetry.metrics.IstioMetrics.create(config, registry);
            s.add(metrics);
            endpoints.putAll(metrics.adminEndpoints());
        } else {
            metrics = null;
        }
        if (config.tracing().enabled()) {
            s.add(io.meshproxy.telemetry.tracing.Tracer.create(config));
        }
        if (config.accessLog().enabled()) {
            s.add(io.meshproxy.telemetry.accesslog.AccessLogger.create(config));
        }
        this.sinks = List.copyOf(s);
        this.sinkArray = s.toArray(new TelemetrySink[0]);
        this.adminEndpoints = Map.copyOf(endpoints);
        this.listener = sinkArray.length == 0 ? RequestEventListener.NONE : new Listener();
    }

    /**
     * Telemetry as {@code config} says; metrics go to {@code registry} when given (an embedding application's
     * own), else to a Prometheus registry of its own, served at {@code /stats/prometheus}.
     */
    public static Telemetry create(TelemetryConfig config, io.micrometer.core.instrument.MeterRegistry registry) {
        return new Telemetry(config == null ? TelemetryConfig.DEFAULT : config, registry);
    }

    public TelemetryConfig config() {
        return config;
    }

    /** The event listener to register on the proxy ({@code NONE} when everything is off). */
    public RequestEventListener listener() {
        return listener;
    }

    /** Admin endpoints by path, to register on the proxy. */
    public Map<String, AdminEndpoint> adminEndpoints() {
        return adminEndpoints;
    }

    /** Exports the Envoy-style statistics of the proxy's clusters (read at scrape time from {@code clusters}). */
    public void bindClusters(Supplier<Map<String, Cluster>> clusters) {
        if (metrics != null) {
            metrics.bindClusters(clusters);
        }
    }

    /** The components in use (metrics, tracing, access logs), for tests and diagnostics. */
    public List<TelemetrySink> sinks() {
        return sinks;
    }

    /** Flushes and stops every component. */
    @Override
    public void close() {
        for (TelemetrySink s : sinkArray) {
            try {
                s.close();
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(Telemetry.class).warn("closing {} failed", s, e);
            }
        }
    }

    /** Creates each request's {@link RequestTelemetry} and hands every event to every component. */
    private final class Listener implements RequestEventListener {
        @Override
        public void onRequestStart(RequestContext ctx, HttpRequest request) {
            RequestTelemetry t = new RequestTelemetry();
            t.startNanos = ctx.startNanos();
            t.startEpochMicros = epochMicrosBase + (t.startNanos - nanoBase) / 1000;
            t.reporter = config.reporter(ctx.listenerName());
            t.method = request.method();
            t.path = request.path();
            t.authority = request.authority();
            t.protocol = ctx.protocol();
            String ct = request.headers().get("content-type");
            t.grpc = ct != null && ct.startsWith("application/grpc");
            t.xForwardedFor = request.headers().get("x-forwarded-for");
            t.userAgent = request.headers().get("user-agent");
            ctx.eventState(t);
            for (TelemetrySink s : sinkArray) {
                s.onRequestStart(t, ctx, request);
            }
        }

        @Override
        public void onUpstreamRequest(RequestContext ctx, HttpRequest request, String cluster, String host, int attempt) {
            RequestTelemetry t = ctx.eventState();
            if (t == null) {
                return;
            }
            t.attempts = attempt;
            if (t.upstreamStartNanos == 0) {
                t.upstreamStartNanos = System.nanoTime();
            }
            for (TelemetrySink s : sinkArray) {
                s.onUpstreamRequest(t, ctx, request, cluster, host, attempt);
            }
        }

        @Override
        public void onResponseHeaders(RequestContext ctx, HttpResponse response) {
            RequestTelemetry t = ctx.eventState();
            if (t == null) {
                return;
            }
            t.responseHeadersNanos = System.nanoTime();
            String gs = response.headers().get("grpc-status");
            if (gs != null) {
                try {
                    t.grpcStatus = Integer.parseInt(gs.trim());
                } catch (NumberFormatException e) {
                    t.grpcStatus = -1;
                }
            }
            for (TelemetrySink s : sinkArray) {
                s.onResponseHeaders(t, ctx, response);
            }
        }

        @Override
        public void onRequestEnd(RequestContext ctx, RequestLog log) {
            RequestTelemetry t = ctx.eventState();
            if (t == null) {
                return;
            }
            for (TelemetrySink s : sinkArray) {
                s.onRequestEnd(t, ctx, log);
            }
        }

        @Override
        public void onConnectionOpen(String listenerName, InetSocketAddress remote, InetSocketAddress local) {
            for (TelemetrySink s : sinkArray) {
                s.onConnectionOpen(listenerName, remote, local);
            }
        }

        @Override
        public void onConnectionClose(String listenerName, InetSocketAddress remote, InetSocketAddress local,
                long bytesReceived, long bytesSent) {
            for (TelemetrySink s : sinkArray) {
                s.onConnectionClose(listenerName, remote, local, bytesReceived, bytesSent);
            }
        }

        @Override
        public void onTlsHandshake(String listenerName, boolean resumed, long durationNanos, String peerPrincipal) {
            for (TelemetrySink s : sinkArray) {
                s.onTlsHandshake(listenerName, resumed, durationNanos, peerPrincipal);
            }
        }

        @Override
        public void onTlsHandshakeFailed(String listenerName, long durationNanos) {
            for (TelemetrySink s : sinkArray) {
                s.onTlsHandshakeFailed(listenerName, durationNanos);
            }
        }
    }
}
