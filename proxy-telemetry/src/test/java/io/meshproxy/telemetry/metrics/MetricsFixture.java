package io.meshproxy.telemetry.metrics;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.telemetry.Telemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** A real proxy with telemetry wired as an application would, and a real HTTP client for its admin API. */
final class MetricsFixture implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    final Telemetry telemetry;
    final MeshProxy proxy;

    MetricsFixture(ProxyConfig config, TelemetryConfig telemetryConfig, io.micrometer.core.instrument.MeterRegistry registry) {
        telemetry = Telemetry.create(telemetryConfig, registry);
        MeshProxy.Builder b = MeshProxy.builder().config(config).eventListener(telemetry.listener());
        telemetry.adminEndpoints().forEach(b::adminEndpoint);
        proxy = b.build().start();
        telemetry.bindClusters(proxy::clusters);
    }

    MetricsFixture(ProxyConfig config, TelemetryConfig telemetryConfig) {
        this(config, telemetryConfig, null);
    }

    IstioMetrics metrics() {
        return (IstioMetrics) telemetry.sinks().get(0);
    }

    HttpResponse<String> admin(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    PromText scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = admin("/stats/prometheus");
        if (r.statusCode() != 200) {
            throw new AssertionError("/stats/prometheus answered " + r.statusCode() + ": " + r.body());
        }
        return PromText.parse(r.body());
    }

    @Override
    public void close() {
        proxy.close();
        telemetry.close();
    }
}
