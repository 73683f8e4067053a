package io.meshproxy.core.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.FaultPolicy;
import io.meshproxy.core.config.LocalRateLimit;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.testing.H2cClient;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Local rate limiting end to end: a listener's bucket and a route's bucket, over HTTP/1.1, HTTP/2 and the
 * in-process client, with a real upstream counting what reached it. Buckets refill once an hour here, so
 * no refill happens during a test.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LocalRateLimitTest {
    private static final Duration HOUR = Duration.ofHours(1);

    /** One way of sending a GET through the listener: status and body back. */
    private interface Sender extends AutoCloseable {
        String[] get(String path) throws Exception;

        @Override
        default void close() {}
    }

    private static Sender sender(String protocol, int port) throws Exception {
        if (protocol.equals("HTTP/2")) {
            H2cClient h2 = new H2cClient(port); // prior knowledge: every request a stream on one connection
            return new Sender() {
                @Override
                public String[] get(String path) throws Exception {
                    H2cClient.Response r = h2.get("svc", path).get(10, TimeUnit.SECONDS);
                    return new String[] {Integer.toString(r.status()), r.body()};
                }

                @Override
                public void close() {
                    h2.close();
                }
            };
        }
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        return path -> {
            java.net.http.HttpResponse<String> r = client.send(java.net.http.HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            return new String[] {Integer.toString(r.statusCode()), r.body()};
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.1", "HTTP/2"})
    void listenerBucketAnswers429OnceItsTokensAreSpent(String protocol) throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(ResilienceConfigs.config(up, UpstreamProtocol.HTTP1, LocalRateLimit.of(5, HOUR),
                             ResilienceConfigs.route("/", null, null)))
                     .requestLogListener(logs).build().start();
             Sender client = sender(protocol, proxy.listenerPort("in"))) {
            for (int i = 1; i <= 5; i++) {
                String[] r = client.get("/ok/" + i);
                assertEquals("200", r[0], "request " + i);
                assertEquals("a", r[1]);
            }
            String[] limited = client.get("/sixth");
            assertEquals("429", limited[0]);
            assertEquals("local_rate_limited", limited[1]);
            RequestLog log = logs.awaitPath("/sixth");
            assertEquals("RL", log.responseFlags());
            assertEquals(429, log.responseCode());
            assertTrue(log.requestId() != null && !log.requestId().isEmpty(), "a 429 is traceable by request id");
            assertEquals(null, log.upstreamCluster(), "shed before routing");
            assertEquals(5, up.requestsReceived(), "the upstream saw the five admitted requests only");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.1", "HTTP/2"})
    void routeBucketLimitsOnlyItsRoute(String protocol) throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(ResilienceConfigs.config(up, UpstreamProtocol.HTTP1, null,
                             ResilienceConfigs.route("/limited", null, LocalRateLimit.of(2, HOUR)),
                             ResilienceConfigs.route("/", null, null)))
                     .requestLogListener(logs).build().start();
             Sender client = sender(protocol, proxy.listenerPort("in"))) {
            assertEquals("200", client.get("/limited/1")[0]);
            assertEquals("200", client.get("/limited/2")[0]);
            String[] third = client.get("/limited/3");
            assertEquals("429", third[0]);
            assertEquals("local_rate_limited", third[1]);
            RequestLog log = logs.awaitPath("/limited/3");
            assertEquals("RL", log.responseFlags());
            assertEquals("limited", log.routeName(), "limited after the route matched");
            for (int i = 0; i < 5; i++) {
                assertEquals("200", client.get("/other/" + i)[0], "another route has no limit");
            }
            assertEquals("429", client.get("/limited/4")[0], "the route's bucket is still empty");
            assertEquals(7, up.requestsReceived());
        }
    }

    @Test
    void aRateLimitedRequestIsNotDelayedByTheRoutesFault() throws Exception {
        FaultPolicy delayAll = new FaultPolicy(new FaultPolicy.Delay(Duration.ofMillis(10), 100), null);
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(ResilienceConfigs.config(up, UpstreamProtocol.HTTP1, null,
                             ResilienceConfigs.route("/", delayAll, LocalRateLimit.of(1, HOUR))))
                     .requestLogListener(logs).build().start();
             Sender client = sender("HTTP/1.1", proxy.listenerPort("in"))) {
            assertEquals("200", client.get("/first")[0]);
            assertEquals("DI", logs.awaitPath("/first").responseFlags());
            assertEquals("429", client.get("/second")[0]);
            assertEquals("RL", logs.awaitPath("/second").responseFlags(), "rate limit first: no DI");
            assertEquals(1, up.requestsReceived());
        }
    }

    @Test
    void inProcessClientIsLimitedByTheListenersBucket() throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder()
                     .config(ResilienceConfigs.config(up, UpstreamProtocol.HTTP1, LocalRateLimit.of(2, HOUR),
                             ResilienceConfigs.route("/", null, null)))
                     .requestLogListener(logs).build().start()) {
            for (String path : new String[] {"/1", "/2"}) {
                HttpResponse r = proxy.client().send(HttpRequest.get("svc", path));
                assertEquals(200, r.status());
                assertEquals("a", text(r));
            }
            HttpResponse limited = proxy.client().send(HttpRequest.post("svc", "/3",
                    io.meshproxy.core.http.Body.of("discarded")));
            assertEquals(429, limited.status());
            assertEquals("local_rate_limited", text(limited));
            assertEquals("RL", logs.awaitPath("/3").responseFlags());
            assertEquals(2, up.requestsReceived());
        }
    }

    private static String text(HttpResponse r) throws Exception {
        return new String(r.body().aggregate(1 << 16).get(10, TimeUnit.SECONDS).bytes(), StandardCharsets.UTF_8);
    }
}
