package io.meshproxy.examples;

import com.sun.net.httpserver.HttpServer;
import io.meshproxy.core.MeshClient;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.HeaderMatcher;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * meshproxy as a library: the mesh runs inside this JVM, in both directions.
 *
 * <ul>
 *   <li><b>Outbound.</b> The application calls the "reviews" service through {@link MeshClient}: the request
 *       enters the mesh's filter chain and router directly (no socket between the application and the mesh),
 *       and is sent to version v1 (90%) or v2 (10%) of "reviews" — or always to v2 when it carries
 *       {@code x-canary: true}. The listener "outbound" serves the same routes to other processes.
 *   <li><b>Inbound.</b> The listener "inbound" hands requests to an {@link HttpService} in this JVM: callers
 *       reach the application through the mesh's listener (filters, request ids, limits) with no second hop.
 * </ul>
 *
 * Run it: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples exec:java}; add
 * {@code -Dexec.args=--serve} to keep it running on ports 15001 (outbound) and 15006 (inbound).
 */
public final class InProcessMeshExample {
    public static final int SERVE_OUTBOUND_PORT = 15001;
    public static final int SERVE_INBOUND_PORT = 15006;
    static final int REQUESTS = 1000;
    static final int CANARY_REQUESTS = 100;

    static {
        // The JDK's little HTTP server leaves Nagle's algorithm on, so a response written as head + body waits
        // for the client's delayed ACK (tens of milliseconds). A real service would not; neither should ours.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private InProcessMeshExample() {}

    /**
     * What one run observed.
     *
     * @param split where the plain requests landed, by version
     * @param canary where the requests with {@code x-canary: true} landed, by version
     * @param inboundStatus the status the inbound handler's answer arrived with
     * @param inboundBody the inbound handler's answer, fetched through the inbound listener
     */
    public record Result(Map<String, Integer> split, Map<String, Integer> canary, int inboundStatus,
            String inboundBody) {}

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--serve")) {
            serve();
        } else {
            run();
        }
    }

    /** Starts everything on free ports, sends requests both ways, prints what happened, stops. */
    public static Result run() throws Exception {
        HttpServer v1 = startReviews("v1", 0);
        HttpServer v2 = startReviews("v2", 0);
        try (MeshProxy mesh = startMesh(v1, v2, 0, 0)) {
            MeshClient client = mesh.client("outbound");

            Map<String, Integer> split = new TreeMap<>();
            for (int i = 0; i < REQUESTS; i++) {
                HttpResponse r = client.send(HttpRequest.get("reviews", "/reviews/" + i));
                split.merge(readBody(r), 1, Integer::sum);
            }

            Map<String, Integer> canary = new TreeMap<>();
            for (int i = 0; i < CANARY_REQUESTS; i++) {
                HttpRequest request = HttpRequest.get("reviews", "/reviews/" + i);
                request.headers().set("x-canary", "true");
                canary.merge(readBody(client.send(request)), 1, Integer::sum);
            }

            // Inbound: an ordinary HTTP client, through the inbound listener, to the handler in this JVM.
            URI inbound = URI.create("http://127.0.0.1:" + mesh.listenerPort("inbound") + "/greet?name=example");
            java.net.http.HttpResponse<String> answer = HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(inbound).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());

            Result result = new Result(split, canary, answer.statusCode(), answer.body());
            print(result, inbound);
            return result;
        } finally {
            v1.stop(0);
            v2.stop(0);
        }
    }

    /** Fixed ports, runs until Ctrl-C. */
    static void serve() throws Exception {
        HttpServer v1 = startReviews("v1", 0);
        HttpServer v2 = startReviews("v2", 0);
        MeshProxy mesh = startMesh(v1, v2, SERVE_OUTBOUND_PORT, SERVE_INBOUND_PORT);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            mesh.close();
            v1.stop(0);
            v2.stop(0);
            stopped.countDown();
        }));
        System.out.println("meshproxy is serving; try:");
        System.out.println("  curl -s http://127.0.0.1:" + SERVE_OUTBOUND_PORT + "/reviews/1                  # v1 90%, v2 10%");
        System.out.println("  curl -s -H 'x-canary: true' http://127.0.0.1:" + SERVE_OUTBOUND_PORT + "/reviews/1  # always v2");
        System.out.println("  curl -s -i 'http://127.0.0.1:" + SERVE_INBOUND_PORT + "/greet?name=curl'        # the in-JVM handler");
        System.out.println("  curl -s --http2-prior-knowledge http://127.0.0.1:" + SERVE_INBOUND_PORT + "/greet  # same, over HTTP/2");
        System.out.println("Ctrl-C to stop.");
        stopped.await();
    }

    /**
     * The mesh: cluster "reviews" (v1 and v2, told apart by their {@code version} label), the outbound
     * listener routing to it, and the inbound listener answered by {@link #application()}.
     */
    static MeshProxy startMesh(HttpServer v1, HttpServer v2, int outboundPort, int inboundPort) {
        ClusterConfig reviews = ClusterConfig.builder().name("reviews")
                .endpoint(EndpointConfig.builder().address("127.0.0.1").port(v1.getAddress().getPort())
                        .label("version", "v1").build())
                .endpoint(EndpointConfig.builder().address("127.0.0.1").port(v2.getAddress().getPort())
                        .label("version", "v2").build())
                .subset("v1", Map.of("version", "v1"))
                .subset("v2", Map.of("version", "v2"))
                .build();

        VirtualHost reviewsHost = VirtualHost.builder().name("reviews").domain("*")
                // First match wins: canary callers always get v2...
                .route(Route.builder().name("canary")
                        .match(RouteMatch.builder().header(HeaderMatcher.exact("x-canary", "true")).build())
                        .action(RouteAction.builder().weightedCluster("reviews", "v2", 1).build())
                        .build())
                // ...everyone else is split 90/10 between the versions.
                .route(Route.builder().name("split")
                        .action(RouteAction.builder()
                                .weightedCluster("reviews", "v1", 90)
                                .weightedCluster("reviews", "v2", 10)
                                .build())
                        .build())
                .build();

        ProxyConfig config = ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("outbound").address("127.0.0.1").port(outboundPort)
                        .routes(RouteConfiguration.builder().name("outbound").virtualHost(reviewsHost).build())
                        .build())
                .listener(ListenerConfig.builder().name("inbound").address("127.0.0.1").port(inboundPort)
                        .handler("greeter")
                        .build())
                .cluster(reviews)
                .build();

        return MeshProxy.builder()
                .config(config)
                .handler("greeter", application())
                .build()
                .start();
    }

    /**
     * The application's own endpoint, served by the inbound listener. It runs on the mesh's event loop, so it
     * must not block: it reads the request body asynchronously and answers when it is in.
     */
    static HttpService application() {
        return (ctx, request) -> request.body().aggregate(64 * 1024).thenApply(body -> {
            HttpResponse response = HttpResponse.of(200, "text/plain",
                    "hello from the in-JVM handler: " + request.method() + " " + request.path()
                            + " (" + ctx.protocol() + ", x-request-id " + request.headers().get("x-request-id") + ")\n");
            response.headers().set("x-served-by", "greeter");
            return response;
        });
    }

    /** A stand-in for one version of the "reviews" service: answers every request with its version. */
    static HttpServer startReviews(String version, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            byte[] body = version.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("x-upstream", version);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return server;
    }

    /** The whole response body as text; every response body must be read or discarded. */
    private static String readBody(HttpResponse response) {
        return response.body().aggregate(64 * 1024).join().utf8();
    }

    private static void print(Result r, URI inbound) {
        System.out.println();
        System.out.printf("Outbound, in-process client, %d requests (route \"split\": v1 90%%, v2 10%%):%n", REQUESTS);
        table(r.split());
        System.out.printf("Outbound with x-canary: true, %d requests (route \"canary\": v2 only):%n", CANARY_REQUESTS);
        table(r.canary());
        System.out.println("Inbound, JDK HttpClient -> " + inbound + " -> in-JVM handler:");
        System.out.println("  " + r.inboundStatus() + " " + r.inboundBody().strip());
        System.out.println();
    }

    private static void table(Map<String, Integer> counts) {
        int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        System.out.println("  version  requests  share");
        counts.forEach((version, n) -> System.out.printf("  %-7s  %8d  %5.1f%%%n", version, n, 100.0 * n / total));
    }
}
