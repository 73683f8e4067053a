package io.meshproxy.telemetry.tracing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.telemetry.Telemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.WorkloadInfo;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Sampling through a real listener, with spans exported over HTTP to a Zipkin-compatible intake: the share of
 * new traces sampled, the incoming flags honoured, the bounded export queue dropping and counting.
 */
class TracingSamplingTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    static TelemetryConfig config(double percent, String endpoint, int maxQueuedSpans) {
        return new TelemetryConfig(new WorkloadInfo("productpage-v1", "bookinfo", "productpage", "v1", null, null),
                Map.of(), new TelemetryConfig.Metrics(false, null, null, 10_000),
                new TelemetryConfig.Tracing(percent, endpoint, maxQueuedSpans, null), null);
    }

    static Tracer tracerOf(Telemetry telemetry) {
        return (Tracer) telemetry.sinks().stream().filter(s -> s instanceof Tracer).findFirst().orElseThrow();
    }

    @Test
    void onePercentOfTenThousandNewTracesWithinBinomialBounds() throws Exception {
        int n = 10_000;
        double p = 0.01;
        LongAdder ended = new LongAdder();
        AtomicInteger ok = new AtomicInteger();
        try (SpanCollector collector = new SpanCollector();
             TestUpstream upstream = TestUpstream.start("reviews")) {
            Telemetry telemetry = Telemetry.create(config(1, collector.endpoint(), 10_000), null);
            try (MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, upstream))
                    .eventListener(telemetry.listener()).requestLogListener(log -> ended.increment()).build().start()) {
                Semaphore inFlight = new Semaphore(32);
                for (int i = 0; i < n; i++) {
                    inFlight.acquire();
                    proxy.client().execute(HttpRequest.get("reviews:9080", "/reviews/" + i)).whenComplete((r, e) -> {
                        if (r != null) {
                            if (r.status() == 200) {
                                ok.incrementAndGet();
                            }
                            r.body().discard();
                        }
                        inFlight.release();
                    });
                }
                await().atMost(Duration.ofSeconds(120)).until(() -> ended.sum() == n);
            }
            Tracer tracer = tracerOf(telemetry);
            long sampled = tracer.reportedSpans();
            telemetry.close(); // flushes the queue to the intake
            assertEquals(n, ok.get());

            double mean = n * p;
            double sigma = Math.sqrt(n * p * (1 - p));
            double low = mean - 4.5 * sigma;
            double high = mean + 4.5 * sigma;
            assertTrue(sampled >= low && sampled <= high,
                    sampled + " sampled of " + n + ", expected " + mean + " ± 4.5σ [" + low + ", " + high + "]");

            List<JsonNode> spans = collector.spans();
            assertEquals(sampled, spans.size(), "every sampled span reached the intake");
            assertEquals(0, tracer.droppedSpans());
            Set<String> traces = new HashSet<>();
            for (JsonNode s : spans) {
                traces.add(s.get("traceId").asText());
                assertEquals("CLIENT", s.get("kind").asText(), "an OUTBOUND listener: reporter=source");
                assertTrue(s.get("parentId") == null, "a new trace starts at this hop");
                assertEquals("productpage", s.get("localEndpoint").get("serviceName").asText());
                assertEquals("reviews:9080/*", s.get("name").asText());
            }
            assertEquals(spans.size(), traces.size(), "one decision per trace, one span per hop");
        }
    }

    @Test
    void incomingFlagsAreHonouredWhateverThePercentage() throws Exception {
        try (SpanCollector collector = new SpanCollector();
             TestUpstream upstream = TestUpstream.start("reviews")) {
            // at 100%, sampled=0 in any format is never recorded, and goes upstream as it came
            Telemetry all = Telemetry.create(config(100, collector.endpoint(), 100), null);
            String notSampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
            LongAdder allEnded = new LongAdder();
            try (MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, upstream))
                    .eventListener(all.listener()).requestLogListener(l -> allEnded.increment()).build().start();
                 RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
                for (int i = 0; i < 10; i++) {
                    RawHttp.Response r = c.send("GET /headers HTTP/1.1\r\nHost: reviews\r\ntraceparent: " + notSampled
                            + "\r\n\r\n").read();
                    assertEquals(200, r.status());
                    assertTrue(r.text().contains("traceparent: " + notSampled), r.text());
                    assertEquals(200, c.send("GET /r HTTP/1.1\r\nHost: reviews\r\nx-b3-traceid: 463ac35c9f6413ad\r\n"
                            + "x-b3-spanid: a2fb4a1d1a96d312\r\nx-b3-sampled: 0\r\n\r\n").read().status());
                    assertEquals(200, c.send("GET /r HTTP/1.1\r\nHost: reviews\r\nb3: 0\r\n\r\n").read().status());
                }
                await().atMost(WAIT).until(() -> allEnded.sum() == 30);
            }
            all.close();
            assertEquals(0, tracerOf(all).reportedSpans());
            assertEquals(0, collector.spans().size(), "sampled=0 is never recorded");

            // at 0%, sampled=1, B3 debug and x-envoy-force-trace are always recorded
            Telemetry none = Telemetry.create(config(0, collector.endpoint(), 100), null);
            LongAdder ended = new LongAdder();
            try (MeshProxy proxy = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP1, upstream))
                    .eventListener(none.listener()).requestLogListener(l -> ended.increment()).build().start();
                 RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
                for (int i = 0; i < 10; i++) {
                    assertEquals(200, c.send("GET /r HTTP/1.1\r\nHost: reviews\r\ntraceparent: "
                            + notSampled.replace("-00", "-01") + "\r\n\r\n").read().status());
                    assertEquals(200, c.send("GET /r HTTP/1.1\r\nHost: reviews\r\nb3: 463ac35c9f6413ad-a2fb4a1d1a96d312-1"
                            + "\r\n\r\n").read().status());
                    assertEquals(200, c.send("GET /r HTTP/1.1\r\nHost: reviews\r\nx-b3-traceid: 463ac35c9f6413ad\r\n"
                            + "x-b3-spanid: a2fb4a1d1a96d312\r\nx-b3-flags: 1\r\n\r\n").read().status());
                    assertEquals(200, c.send("GET /r HTTP/1.1\r\nHost: reviews\r\nx-envoy-force-trace: true\r\n\r\n")
                            .read().status());
                    assertEquals(200, c.send("GET /r HTTP/1.1\r\nHost: reviews\r\n\r\n").read().status());
                }
                await().atMost(WAIT).until(() -> ended.sum() == 50);
            }
            none.close();
            assertEquals(40, tracerOf(none).reportedSpans(), "all but the 10 undecided requests");
            assertEquals(40, collector.spans().size());
        }
    }

    @Test
    void aFullExportQueueDropsAndCountsWithoutBlocking() throws Exception {
        try (SpanCollector collector = new SpanCollector()) {
            Tracer tracer = Tracer.create(config(100, collector.endpoint(), 5));
            try {
                collector.hold(); // Zipkin stops answering: the exporter's thread blocks on its first message
                TracerTest.exchange(tracer, "outbound", 200);
                await().atMost(WAIT).until(() -> collector.posts() == 1);
                for (int i = 0; i < 100; i++) {
                    TracerTest.exchange(tracer, "outbound", 200); // returns at once: report() never waits
                }
                assertEquals(101, tracer.reportedSpans());
                assertEquals(95, tracer.droppedSpans(), "the queue holds maxQueuedSpans (5), the rest is dropped, counted");
                collector.release();
            } finally {
                tracer.close();
            }
            assertEquals(6, collector.spans().size(), "the one in flight and the five queued, flushed on close");
        }
    }

    @Test
    void failedSendsAreCountedAsDropped() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Tracer tracer = Tracer.create(config(100, "http://127.0.0.1:" + closedPort + "/api/v2/spans", 100));
        for (int i = 0; i < 3; i++) {
            TracerTest.exchange(tracer, "outbound", 200);
        }
        tracer.close();
        assertEquals(3, tracer.droppedSpans(), "nobody listening: the message and its spans are dropped, counted");
    }
}
