package io.meshproxy.sidecar;

import io.meshproxy.config.ConfigFileException;
import io.meshproxy.config.ConfigLoader;
import io.meshproxy.config.ConfigSource;
import io.meshproxy.config.LoadedConfig;
import io.meshproxy.core.MeshClient;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The embedded default, {@code java -jar meshproxy.jar}: a small mesh in one process. Two versions of a
 * {@code reviews} service are served by in-process handlers behind their own listeners on ephemeral ports
 * (so their traffic crosses a real socket, as a sidecar's upstream would); then the proxy starts from the
 * embedded {@code demo.yaml} — the same Istio YAML and the same loader as {@code run -c} — with an OUTBOUND
 * listener routing {@code canary: true} to v2 and everything else 90/10, an INBOUND listener forwarding to
 * v1, and the admin API.
 */
public final class DemoMesh implements AutoCloseable {
    /** The embedded configuration, with {@code ${NAME}} placeholders for the ports of a run. */
    static final String RESOURCE = "demo.yaml";
    /** Most a demo request may ask to be delayed ({@code ?delay_ms=}): bounded, as everything. */
    static final long MAX_DELAY_MS = 10_000;

    /** Ports of the proxy: admin, outbound and inbound listeners (0: any free port). */
    public record Ports(int admin, int outbound, int inbound) {
        /** Istio's conventional ports. */
        public static final Ports DEFAULT = new Ports(15000, 15001, 15006);
        /** Free ports chosen by the system (tests). */
        public static final Ports EPHEMERAL = new Ports(0, 0, 0);
    }

    private final MeshProxy services;
    private final Sidecar sidecar;

    private DemoMesh(MeshProxy services, Sidecar sidecar) {
        this.services = services;
        this.sidecar = sidecar;
    }

    /** Starts the two demo service versions, then the proxy in front of them, with one event loop thread each. */
    public static DemoMesh start(Ports ports) {
        return start(ports, 1);
    }

    /** Starts the two demo service versions, then the proxy with {@code concurrency} event loop threads. */
    public static DemoMesh start(Ports ports, int concurrency) {
        MeshProxy services = MeshProxy.builder()
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("reviews-v1").port(0).handler("v1").build())
                        .listener(ListenerConfig.builder().name("reviews-v2").port(0).handler("v2").build())
                        .build())
                .handler("v1", reviews("v1", "★★★★☆"))
                .handler("v2", reviews("v2", "★★★★★"))
                .eventLoopThreads(1)
                .build().start();
        try {
            LoadedConfig loaded = load(ports, services.listenerPort("reviews-v1"), services.listenerPort("reviews-v2"));
            return new DemoMesh(services, Sidecar.startLoaded(loaded, concurrency, List.of(services)));
        } catch (RuntimeException e) {
            services.close();
            throw e;
        }
    }

    /** The embedded YAML with this run's ports, through {@link ConfigLoader#loadSources}. */
    static LoadedConfig load(Ports ports, int reviewsV1, int reviewsV2) {
        String yaml = fill(template(), Map.of(
                "ADMIN_PORT", ports.admin(),
                "OUTBOUND_PORT", ports.outbound(),
                "INBOUND_PORT", ports.inbound(),
                "REVIEWS_V1_PORT", reviewsV1,
                "REVIEWS_V2_PORT", reviewsV2));
        try {
            return ConfigLoader.loadSources(List.of(new ConfigSource("embedded:" + RESOURCE, yaml)));
        } catch (ConfigFileException e) {
            throw new IllegalStateException("the embedded demo configuration is invalid: " + e.getMessage(), e);
        }
    }

    /** The embedded YAML as written, placeholders and all. */
    static String template() {
        try (InputStream in = DemoMesh.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Z0-9_]+)}");

    /** Replaces every {@code ${NAME}}; an unknown name is a bug in the resource. */
    static String fill(String template, Map<String, Integer> values) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Integer v = values.get(m.group(1));
            if (v == null) {
                throw new IllegalStateException("no value for ${" + m.group(1) + "} in " + RESOURCE);
            }
            m.appendReplacement(out, String.valueOf(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * A demo service version: answers JSON naming itself, with {@code x-served-by: reviews-VERSION}. A
     * {@code delay_ms=N} query parameter (at most 10 s) delays the answer, to watch a drain let it finish.
     */
    private static HttpService reviews(String version, String stars) {
        return (ctx, request) -> {
            request.body().discard();
            Headers h = new Headers();
            h.set("content-type", "application/json");
            h.set("x-served-by", "reviews-" + version);
            String path = request.path();
            String json = "{\"service\":\"reviews\",\"version\":\"" + version + "\",\"path\":\"" + jsonEscape(path)
                    + "\",\"rating\":\"" + stars + "\",\"requestId\":\"" + jsonEscape(ctx.requestId()) + "\"}\n";
            HttpResponse response = new HttpResponse(200, h, Body.of(json));
            long delay = delayMillis(path);
            if (delay <= 0) {
                return CompletableFuture.completedFuture(response);
            }
            CompletableFuture<HttpResponse> later = new CompletableFuture<>();
            ctx.eventLoop().schedule(() -> later.complete(response), delay, TimeUnit.MILLISECONDS);
            return later;
        };
    }

    private static final Pattern DELAY = Pattern.compile("[?&]delay_ms=(\\d{1,9})(?:&|$)");

    static long delayMillis(String path) {
        Matcher m = DELAY.matcher(path);
        return m.find() ? Math.min(Long.parseLong(m.group(1)), MAX_DELAY_MS) : 0;
    }

    private static String jsonEscape(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The proxy's run wiring (drain and stop go through it). */
    public Sidecar sidecar() {
        return sidecar;
    }

    /** The proxy. */
    public MeshProxy mesh() {
        return sidecar.mesh();
    }

    /** The port the demo service {@code version} (v1 or v2) listens on. */
    public int servicePort(String version) {
        return services.listenerPort("reviews-" + version);
    }

    /** Drains and stops the proxy, then the demo services. */
    @Override
    public void close() {
        sidecar.close();
    }

    /**
     * Sends {@code n} requests for {@code reviews} through the in-process client entering the outbound
     * listener (with {@code canary: true} when asked); counts which version served each.
     */
    public static Map<String, Integer> traffic(MeshClient client, int n, boolean canary) throws Exception {
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            HttpRequest req = HttpRequest.get("reviews", "/reviews/" + i);
            if (canary) {
                req.headers().set("canary", "true");
            }
            HttpResponse r = client.send(req);
            r.body().aggregate(1 << 16).get(10, TimeUnit.SECONDS);
            String by = r.status() == 200 ? r.headers().get("x-served-by") : "status " + r.status();
            counts.merge(by, 1, Integer::sum);
        }
        return counts;
    }
}
