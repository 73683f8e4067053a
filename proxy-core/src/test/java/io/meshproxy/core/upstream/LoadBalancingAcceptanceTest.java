package io.meshproxy.core.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.LbPolicy;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.Tally;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every load-balancer policy, end to end: a real listener, the JDK HttpClient, three real upstreams; where a
 * request landed is read from {@code x-upstream}.
 */
class LoadBalancingAcceptanceTest {
    private static final String[] NAMES = {"a", "b", "c"};
    private static final List<TestUpstream> upstreams = new ArrayList<>();
    private static HttpClient client;

    @BeforeAll
    static void start() throws InterruptedException {
        for (String n : NAMES) {
            upstreams.add(TestUpstream.start(n));
        }
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void stop() {
        upstreams.forEach(TestUpstream::close);
    }

    /** Listener "in" sending everything to cluster "backend" of the upstreams, with these weights. */
    private static MeshProxy proxy(LbPolicy policy, int eventLoops, int... weights) {
        ClusterConfig.Builder cluster = ClusterConfig.builder().name("backend").lbPolicy(policy);
        for (int i = 0; i < weights.length; i++) {
            cluster.endpoint(EndpointConfig.builder().address("127.0.0.1").port(upstreams.get(i).port())
                    .weight(weights[i]).build());
        }
        ProxyConfig config = ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("backend")).build())
                .cluster(cluster.build())
                .build();
        return MeshProxy.builder().config(config).eventLoopThreads(eventLoops).build().start();
    }

    private static HttpRequest request(MeshProxy proxy) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/lb")).build();
    }

    private static String landedOn(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r::body);
        return r.headers().firstValue("x-upstream").orElse(null);
    }

    /** {@code n} requests one after another. */
    private static Tally sequential(MeshProxy proxy, int n) throws Exception {
        Tally t = new Tally();
        for (int i = 0; i < n; i++) {
            t.add(landedOn(client.send(request(proxy), HttpResponse.BodyHandlers.ofString())));
        }
        return t;
    }

    /** {@code n} requests, up to {@code concurrency} in flight. */
    private static Tally concurrent(MeshProxy proxy, int n, int concurrency) throws Exception {
        Semaphore permits = new Semaphore(concurrency);
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            permits.acquire();
            all.add(client.sendAsync(request(proxy), HttpResponse.BodyHandlers.ofString())
                    .whenComplete((r, e) -> permits.release()));
        }
        Tally t = new Tally();
        for (CompletableFuture<HttpResponse<String>> f : all) {
            t.add(landedOn(f.get()));
        }
        return t;
    }

    @Test
    void roundRobinIsExactlyEvenOverSequentialRequests() throws Exception {
        try (MeshProxy proxy = proxy(LbPolicy.ROUND_ROBIN, 1, 1, 1, 1)) {
            Tally t = sequential(proxy, 300);
            for (String n : NAMES) {
                assertEquals(100, t.count(n), t::toString);
            }
            // And in strict rotation: every window of three consecutive requests hits all three upstreams.
            List<String> order = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                order.add(landedOn(client.send(request(proxy), HttpResponse.BodyHandlers.ofString())));
            }
            for (int i = 0; i + 3 <= order.size(); i += 3) {
                assertEquals(3, order.subList(i, i + 3).stream().distinct().count(), order::toString);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = LbPolicy.class, names = {"RANDOM", "LEAST_REQUEST"})
    void spreadsEvenlyOverThreeUpstreams(LbPolicy policy) throws Exception {
        try (MeshProxy proxy = proxy(policy, 2, 1, 1, 1)) {
            Tally t = concurrent(proxy, 3000, 8);
            assertEquals(3000, t.count("a") + t.count("b") + t.count("c"), t::toString);
            for (String n : NAMES) {
                assertEquals(100.0 / 3, t.percent(n), 5.0, () -> policy + ": " + t);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(LbPolicy.class)
    void endpointWeightsThreeToOneAreHonoured(LbPolicy policy) throws Exception {
        try (MeshProxy proxy = proxy(policy, 1, 3, 1)) {
            Tally t = sequential(proxy, 4000);
            assertEquals(4000, t.count("a") + t.count("b"), t::toString);
            assertEquals(75.0, t.percent("a"), 4.0, () -> policy + ": " + t);
            assertEquals(25.0, t.percent("b"), 4.0, () -> policy + ": " + t);
        }
    }
}
