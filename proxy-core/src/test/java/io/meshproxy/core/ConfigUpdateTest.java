package io.meshproxy.core;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ConfigException;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link MeshProxy#update}: atomic swap under load, carry-over of unchanged clusters, rejection keeps the old config. */
@Timeout(120)
class ConfigUpdateTest {

    private static ProxyConfig split(TestUpstream v1, TestUpstream v2, int w1, int w2, int port) {
        RouteConfiguration routes = RouteConfiguration.builder().name("r")
                .virtualHost(VirtualHost.builder().name("all").domain("*").route(Route.builder()
                        .action(RouteAction.builder().weightedCluster("v1", null, w1).weightedCluster("v2", null, w2)
                                .build()).build()).build()).build();
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(port).routes(routes).build())
                .cluster(Configs.cluster("v1", UpstreamProtocol.HTTP1, v1))
                .cluster(Configs.cluster("v2", UpstreamProtocol.HTTP1, v2))
                .build();
    }

    @Test
    void weightChangeUnderLoadFailsNoRequestAndKeepsConnections() throws Exception {
        try (TestUpstream v1 = TestUpstream.start("v1"); TestUpstream v2 = TestUpstream.start("v2");
             MeshProxy proxy = MeshProxy.builder().config(split(v1, v2, 90, 10, 0)).eventLoopThreads(1)
                     .build().start()) {
            MeshClient client = proxy.client();
            int port = proxy.listenerPort("in");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean switched = new AtomicBoolean();
            CopyOnWriteArrayList<String> failures = new CopyOnWriteArrayList<>();
            Map<String, AtomicInteger> afterSwitch = new ConcurrentHashMap<>();
            AtomicInteger sent = new AtomicInteger();
            Thread load = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        boolean after = switched.get();
                        String served;
                        if (sent.incrementAndGet() % 2 == 0) {
                            HttpResponse r = client.send(HttpRequest.get("svc", "/x"));
                            String body = r.body().aggregate(1024).get(10, TimeUnit.SECONDS).utf8();
                            served = r.status() == 200 ? body : "status " + r.status();
                        } else {
                            java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + port + "/x")).build(),
                                    java.net.http.HttpResponse.BodyHandlers.ofString());
                            served = r.statusCode() == 200 ? r.body() : "status " + r.statusCode();
                        }
                        if (!served.equals("v1") && !served.equals("v2")) {
                            failures.add(served);
                        }
                        if (after) {
                            afterSwitch.computeIfAbsent(served, k -> new AtomicInteger()).incrementAndGet();
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }, "load");
            load.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> sent.get() >= 500);
            int connectionsBefore = v1.connectionsAccepted() + v2.connectionsAccepted();
            proxy.update(split(v1, v2, 0, 100, 0), "2");
            switched.set(true);
            int at = sent.get();
            await().atMost(Duration.ofSeconds(60)).until(() -> sent.get() >= at + 500);
            stop.set(true);
            load.join(10_000);

            assertTrue(failures.isEmpty(), "failed requests: " + failures);
            assertEquals(Map.of("v2", afterSwitch.get("v2").get()), Map.of("v2", afterSwitch.values().stream()
                    .mapToInt(AtomicInteger::get).sum()), "after the switch everything goes to v2: " + afterSwitch);
            assertEquals(connectionsBefore, v1.connectionsAccepted() + v2.connectionsAccepted(),
                    "unchanged clusters kept their pooled upstream connections");
            assertEquals(port, proxy.listenerPort("in"), "the listener kept its socket");
            assertEquals("2", proxy.versionInfo());
        }
    }

    @Test
    void rejectedUpdatesKeepTheLastGoodConfig() throws Exception {
        try (TestUpstream v1 = TestUpstream.start("v1"); TestUpstream v2 = TestUpstream.start("v2");
             ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             MeshProxy proxy = MeshProxy.builder().config(split(v1, v2, 100, 0, 0)).build().start()) {
            // a listener handing to an in-process handler nobody registered
            ProxyConfig unknownHandler = ProxyConfig.builder()
                    .listener(ListenerConfig.builder().name("in").port(0).handler("nobody").build()).build();
            ConfigException e1 = assertThrows(ConfigException.class, () -> proxy.update(unknownHandler, "bad-1"));
            assertTrue(e1.getMessage().contains("nobody"), e1.getMessage());
            // a new listener on a port that cannot be bound
            ProxyConfig portTaken = ProxyConfig.builder()
                    .listener(ListenerConfig.builder().name("in").port(0).routes(Configs.allTo("v2")).build())
                    .listener(ListenerConfig.builder().name("extra").port(taken.getLocalPort())
                            .routes(Configs.allTo("v2")).build())
                    .cluster(Configs.cluster("v2", UpstreamProtocol.HTTP1, v2)).build();
            ConfigException e2 = assertThrows(ConfigException.class, () -> proxy.update(portTaken, "bad-2"));
            assertTrue(e2.getMessage().contains("previous configuration kept"), e2.getMessage());

            assertEquals("0", proxy.versionInfo());
            HttpResponse r = proxy.client().send(HttpRequest.get("svc", "/x"));
            assertEquals("v1", r.body().aggregate(1024).get(10, TimeUnit.SECONDS).utf8(), "still the first config");
            assertEquals(1, proxy.config().listeners().size());
        }
    }

    @Test
    void listenersComeAndGoAndReplacedClustersLetGoOfTheirConnections() throws Exception {
        try (TestUpstream v1 = TestUpstream.start("v1"); TestUpstream v2 = TestUpstream.start("v2");
             MeshProxy proxy = MeshProxy.builder().config(split(v1, v2, 100, 0, 0)).build().start()) {
            assertEquals("v1", proxy.client().send(HttpRequest.get("svc", "/x")).body().aggregate(1024)
                    .get(10, TimeUnit.SECONDS).utf8());
            var oldV1Host = proxy.clusters().get("v1").hosts().get(0);
            assertEquals(1, oldV1Host.openConnections());
            int oldPort = proxy.listenerPort("in");

            // "in" is replaced by "edge"; cluster v1 changes (its idle timeout), so it is a new cluster
            ProxyConfig next = ProxyConfig.builder()
                    .listener(ListenerConfig.builder().name("edge").port(0).routes(Configs.allTo("v1")).build())
                    .cluster(ClusterConfig.builder().name("v1").endpoint("127.0.0.1", v1.port())
                            .idleTimeout(Duration.ofMinutes(5)).build())
                    .build();
            proxy.update(next, "3");
            int edge = proxy.listenerPort("edge");
            HttpClient http = HttpClient.newHttpClient();
            assertEquals("v1", http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge + "/x"))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
            await("the removed listener stopped accepting").atMost(Duration.ofSeconds(10)).until(() -> {
                try (Socket s = new Socket("127.0.0.1", oldPort)) {
                    return false;
                } catch (ConnectException expected) {
                    return true;
                }
            });
            await("the replaced cluster closed its idle connection").atMost(Duration.ofSeconds(10))
                    .until(() -> oldV1Host.openConnections() == 0);
            assertTrue(proxy.clusters().get("v1").hosts().get(0) != oldV1Host, "a changed cluster is new");
        }
    }
}
