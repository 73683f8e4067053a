package io.meshproxy.sidecar;

import io.meshproxy.core.MeshClient;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar meshproxy.jar}: starts the embedded demo mesh ({@link DemoMesh}), sends a little traffic
 * through it to show where requests land, then serves until interrupted. {@code --once} exits after the
 * demo traffic (used by CI). Reading Istio YAML files comes with the config module.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        boolean once = false;
        for (String a : args) {
            switch (a) {
                case "--once" -> once = true;
                case "-h", "--help" -> {
                    System.out.println("usage: java -jar meshproxy.jar [--once]\n"
                            + "  Starts the embedded demo mesh: admin 127.0.0.1:15000, outbound 127.0.0.1:15001.\n"
                            + "  --once  send the demo traffic, print the result, and exit");
                    return;
                }
                default -> {
                    System.err.println("meshproxy: unknown argument '" + a + "' (try --help)");
                    System.exit(2);
                }
            }
        }
        MeshProxy mesh = DemoMesh.start(once ? DemoMesh.Ports.EPHEMERAL : DemoMesh.Ports.DEFAULT);
        int outbound = mesh.listenerPort("outbound");
        int admin = mesh.adminPort();
        System.out.printf("meshproxy demo mesh is up: outbound 127.0.0.1:%d, admin 127.0.0.1:%d%n", outbound, admin);
        Map<String, Integer> landed = demoTraffic(mesh.client(), 100, false);
        Map<String, Integer> canary = demoTraffic(mesh.client(), 10, true);
        System.out.println("100 requests to reviews (90/10 split): " + landed);
        System.out.println("10 requests with x-canary: true:        " + canary);
        if (once) {
            DemoMesh.stop(mesh);
            return;
        }
        System.out.printf("%nTry:%n  curl -s -H 'Host: reviews' http://127.0.0.1:%d/reviews/1%n"
                + "  curl -s -H 'Host: reviews' -H 'x-canary: true' http://127.0.0.1:%d/reviews/1%n"
                + "  curl -s --http2-prior-knowledge -H 'Host: reviews' http://127.0.0.1:%d/reviews/1%n"
                + "  curl -s http://127.0.0.1:%d/clusters%n  curl -s http://127.0.0.1:%d/config_dump%n"
                + "Ctrl-C drains and stops.%n", outbound, outbound, outbound, admin, admin);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            DemoMesh.stop(mesh);
            stopped.countDown();
        }, "meshproxy-shutdown"));
        stopped.await();
    }

    /** Sends {@code n} requests through the in-process client; counts which version served each. */
    static Map<String, Integer> demoTraffic(MeshClient client, int n, boolean canary) throws Exception {
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            HttpRequest req = HttpRequest.get("reviews", "/reviews/" + i);
            if (canary) {
                req.headers().set("x-canary", "true");
            }
            HttpResponse r = client.send(req);
            r.body().aggregate(1 << 16).get(10, TimeUnit.SECONDS);
            String by = r.status() == 200 ? r.headers().get("x-served-by") : "status " + r.status();
            counts.merge(by, 1, Integer::sum);
        }
        return counts;
    }
}
