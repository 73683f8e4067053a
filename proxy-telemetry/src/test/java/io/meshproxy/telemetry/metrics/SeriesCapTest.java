package io.meshproxy.telemetry.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshClient;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.TelemetryConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Cardinality and memory control: traffic never creates series, and the series cap holds. */
class SeriesCapTest {

    /** Sends {@code n} in-process requests, {@code concurrency} at a time, each with its own path, host and client. */
    static void send(MeshClient client, int n, int concurrency, String pathPrefix) throws Exception {
        Semaphore inFlight = new Semaphore(concurrency);
        AtomicInteger done = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < n; i++) {
            inFlight.acquire();
            HttpRequest r = HttpRequest.get("host-" + i + ".example", pathPrefix + i + "?q=" + i);
            r.headers().set("x-forwarded-for", "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255));
            client.execute(r).whenComplete((resp, err) -> {
                if (err != null) {
                    failure.compareAndSet(null, err);
                } else {
                    resp.body().discard();
                }
                done.incrementAndGet();
                inFlight.release();
            });
        }
        inFlight.acquire(concurrency);
        inFlight.release(concurrency);
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertEquals(n, done.get());
    }

    /**
     * {@link IstioMetricsTest#config} plus a route answering {@code /local/...} directly (the same listener chain,
     * router and telemetry, without the upstream hop, so that 100,000 requests stay quick on a busy 2-core box).
     */
    static io.meshproxy.core.config.ProxyConfig withDirectRoute(TestUpstream reviews) {
        var base = IstioMetricsTest.config(reviews);
        var routes = io.meshproxy.core.config.RouteConfiguration.builder().name("routes").virtualHost(
                io.meshproxy.core.config.VirtualHost.builder().name("all").domain("*")
                        .route(io.meshproxy.core.config.Route.builder().name("local")
                                .match(io.meshproxy.core.config.RouteMatch.builder().pathPrefix("/local/").build())
                                .action(io.meshproxy.core.config.DirectResponseAction.of(200, "ok")).build())
                        .route(io.meshproxy.core.config.Route.builder().name("reviews")
                                .action(io.meshproxy.core.config.RouteAction.to(IstioMetricsTest.REVIEWS)).build())
                        .build()).build();
        return io.meshproxy.core.config.ProxyConfig.builder()
                .listener(io.meshproxy.core.config.ListenerConfig.builder().name("in").port(0).routes(routes).build())
                .cluster(base.clusters().get(0))
                .admin(new io.meshproxy.core.config.AdminConfig("127.0.0.1", 0))
                .build();
    }

    static long istioSeries(PromText p) {
        return p.samples.stream().filter(s -> s.name().startsWith("istio_")).count();
    }

    @Test
    void distinctPathsHostsAndClientsLeaveTheSeriesUnchanged() throws Exception {
        try (TestUpstream reviews = TestUpstream.start("reviews");
             MetricsFixture f = new MetricsFixture(withDirectRoute(reviews), IstioMetricsTest.telemetry(null))) {
            MeshClient client = f.proxy.client();
            // warm up: the first requests create the one combination (and the listener's TCP series)
            send(client, 200, 32, "/warm/");
            send(client, 200, 32, "/local/warm/");
            try (RawHttp c = new RawHttp(f.proxy.listenerPort("in"))) {
                assertEquals(200, c.send("GET /warm HTTP/1.1\r\nHost: a\r\n\r\n").read().status());
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> f.scrape().sum("istio_tcp_connections_closed_total") == 1);
            int seriesBefore = f.metrics().seriesCount();
            int metersBefore = f.metrics().registry().getMeters().size();
            long scrapedBefore = istioSeries(f.scrape());

            send(client, 90_000, 64, "/local/item/");
            send(client, 10_000, 64, "/item/");
            // and real downstream connections from distinct client ports, with distinct x-forwarded-for
            for (int conn = 0; conn < 8; conn++) {
                try (RawHttp c = new RawHttp(f.proxy.listenerPort("in"))) {
                    for (int i = 0; i < 50; i++) {
                        assertEquals(200, c.send("GET /conn/" + conn + "/" + i + " HTTP/1.1\r\nHost: h" + i
                                + "\r\nX-Forwarded-For: 192.168." + conn + "." + i + "\r\n\r\n").read().status());
                    }
                }
            }
            int total = 200 + 200 + 1 + 100_000 + 400;
            await().atMost(Duration.ofSeconds(30)).until(() -> f.scrape().sum("istio_requests_total") == total);
            await().atMost(Duration.ofSeconds(30)).until(() -> f.scrape().sum("istio_tcp_connections_closed_total") == 9);

            PromText after = f.scrape();
            assertEquals(seriesBefore, f.metrics().seriesCount(), "no series created by paths, hosts or clients");
            assertEquals(metersBefore, f.metrics().registry().getMeters().size());
            assertEquals(scrapedBefore, istioSeries(after));
            assertEquals(4 + 4 + 4, seriesBefore,
                    "two request combinations (reviews, local reply) of 4 metrics and one listener's TCP series (4)");
            assertEquals(0, after.sum("meshproxy_metrics_series_dropped_total"));
            for (PromText.Sample s : after.samples) {
                for (var l : s.labels().entrySet()) {
                    String v = l.getValue();
                    assertTrue(l.getKey().equals("le") || !v.contains("/item/") && !v.contains("host-") && !v.startsWith("10.")
                            && !v.startsWith("192.168."), "an unbounded value became a label: " + s);
                }
            }
        }
    }

    @Test
    void beyondTheCapSeriesAreNotCreatedAndTheRequestsAreCounted() throws Exception {
        TelemetryConfig.Metrics tiny = new TelemetryConfig.Metrics(true, List.of(), List.of(), 4);
        try (TestUpstream reviews = TestUpstream.start("reviews");
             MetricsFixture f = new MetricsFixture(IstioMetricsTest.config(reviews), IstioMetricsTest.telemetry(tiny))) {
            MeshClient client = f.proxy.client();
            send(client, 5, 1, "/ok/"); // 200: the first combination takes the 4 series the cap allows
            await().atMost(Duration.ofSeconds(30)).until(() -> f.scrape().sum("istio_requests_total") == 5);
            for (int i = 0; i < 30; i++) {
                String path = i % 3 == 0 ? "/status/404" : i % 3 == 1 ? "/status/500" : "/none/" + i;
                CompletableFuture<Void> done = client.execute(HttpRequest.get("svc", path))
                        .thenAccept(r -> r.body().discard());
                done.get();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> f.scrape().sum("meshproxy_metrics_series_dropped_total") == 30);
            // a downstream connection would need 4 more series for its TCP metrics: refused and counted too
            try (RawHttp c = new RawHttp(f.proxy.listenerPort("in"))) {
                assertEquals(200, c.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n").read().status());
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> f.scrape().sum("meshproxy_metrics_series_dropped_total") == 32);
            PromText p = f.scrape();
            assertEquals(4, f.metrics().seriesCount(), "the cap");
            assertEquals(6, p.sum("istio_requests_total"), "the 200s, in-process and over the connection");
            assertEquals(1, p.named("istio_requests_total").size());
            assertEquals(0, p.named("istio_tcp_connections_opened_total").size());
        }
    }
}
