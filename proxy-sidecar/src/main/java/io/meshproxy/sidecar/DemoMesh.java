package io.meshproxy.sidecar;

import io.meshproxy.config.ConfigFileException;
import io.meshproxy.config.ConfigLoader;
import io.meshproxy.config.ConfigSource;
import io.meshproxy.config.LoadedConfig;
import io.meshproxy.core.MeshClient;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.tls.DevCa;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The embedded default, {@code java -jar meshproxy.jar}: a small mesh in one process. Two versions of a
 * {@code reviews} service are served by plain HTTP servers on ephemeral ports ({@link DemoServices}: their
 * traffic crosses a real socket, as a sidecar's upstream would); then the proxy starts from the
 * embedded {@code demo.yaml} — the same Istio YAML and the same loader as {@code run -c} — with an OUTBOUND
 * listener routing {@code canary: true} to v2 and everything else 90/10, an INBOUND listener forwarding to
 * v1, and the admin API.
 *
 * <p>The demo runs Istio's mutual TLS between its own listeners. At start it makes a development CA
 * ({@link DevCa}, as {@code meshproxy certs} does) and issues the workload certificate of
 * {@code spec.workload.serviceAccount} ({@value #NAMESPACE}/{@value #SERVICE_ACCOUNT}) into a temporary directory
 * that {@link #close()} deletes; the Proxy's {@code spec.identity} names those files. The v1 subset's endpoint is
 * the proxy's own INBOUND listener, reached over {@code ISTIO_MUTUAL} (DestinationRule); a PeerAuthentication
 * makes that listener STRICT; the v1 service answers with the peer principal it received in
 * {@code x-forwarded-client-cert}. v2 stays a plaintext service outside the mesh.
 */
public final class DemoMesh implements AutoCloseable {
    /** The embedded configuration, with {@code ${NAME}} placeholders for the ports of a run. */
    static final String RESOURCE = "demo.yaml";
    /** Most a demo request may ask to be delayed ({@code ?delay_ms=}): bounded, as everything. */
    static final long MAX_DELAY_MS = 10_000;
    /** The trust domain of the demo's development CA (Istio's default). */
    public static final String TRUST_DOMAIN = "cluster.local";
    /** The demo workload's namespace ({@code metadata.namespace} of the Proxy in {@code demo.yaml}). */
    public static final String NAMESPACE = "default";
    /** The demo workload's service account ({@code spec.workload.serviceAccount} in {@code demo.yaml}). */
    public static final String SERVICE_ACCOUNT = "bookinfo-reviews";
    /** Attempts at binding an inbound listener on a port found free just before (another process may take it). */
    private static final int EPHEMERAL_INBOUND_ATTEMPTS = 3;

    /** Ports of the proxy: admin, outbound and inbound listeners (0: any free port). */
    public record Ports(int admin, int outbound, int inbound) {
        /** Istio's conventional ports. */
        public static final Ports DEFAULT = new Ports(15000, 15001, 15006);
        /** Free ports chosen by the system (tests). */
        public static final Ports EPHEMERAL = new Ports(0, 0, 0);
    }

    private final DemoServices services;
    private final Sidecar sidecar;
    private final Path certificates;
    private final String spiffeId;

    private DemoMesh(DemoServices services, Sidecar sidecar, Path certificates, String spiffeId) {
        this.services = services;
        this.sidecar = sidecar;
        this.certificates = certificates;
        this.spiffeId = spiffeId;
    }

    /** Starts the two demo service versions, then the proxy in front of them, with one event loop thread each. */
    public static DemoMesh start(Ports ports) {
        return start(ports, 1);
    }

    /**
     * Issues the workload certificate, starts the two demo service versions, then the proxy with
     * {@code concurrency} event loop threads.
     */
    public static DemoMesh start(Ports ports, int concurrency) {
        Path tmp = createTempDirectory();
        Path certs = issueCertificates(tmp);
        String spiffeId = "spiffe://" + TRUST_DOMAIN + "/ns/" + NAMESPACE + "/sa/" + SERVICE_ACCOUNT;
        DemoServices services;
        try {
            services = DemoServices.start(Map.of("v1", "★★★★☆", "v2", "★★★★★"));
        } catch (RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
        AutoCloseable deleteCertificates = () -> deleteTree(tmp);
        try {
            // The v1 endpoint of the ServiceEntry is the inbound listener's port, so it must be known before the
            // YAML is loaded: "any free port" is a port found free now, tried again if another process takes it.
            for (int attempt = 1; ; attempt++) {
                Ports run = ports.inbound() != 0 ? ports
                        : new Ports(ports.admin(), ports.outbound(), freeLoopbackPort());
                LoadedConfig loaded = load(run, services.port("v1"), services.port("v2"), certs);
                try {
                    Sidecar sidecar = Sidecar.startLoaded(loaded, concurrency, List.of(services, deleteCertificates));
                    return new DemoMesh(services, sidecar, certs, spiffeId);
                } catch (IllegalStateException e) {
                    if (ports.inbound() != 0 || attempt == EPHEMERAL_INBOUND_ATTEMPTS) {
                        throw e;
                    }
                }
            }
        } catch (RuntimeException e) {
            services.close();
            deleteTree(tmp);
            throw e;
        }
    }

    /**
     * A development CA, kept in memory only, and the workload certificate of {@value #NAMESPACE}/{@value
     * #SERVICE_ACCOUNT} it signs: {@code cert-chain.pem}, {@code key.pem} and {@code root-cert.pem} written under
     * {@code tmp}; returns their directory.
     */
    private static Path issueCertificates(Path tmp) {
        try {
            return DevCa.create(TRUST_DOMAIN).workload(NAMESPACE, SERVICE_ACCOUNT).issue().writeTo(tmp);
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw new IllegalStateException("cannot issue the demo's workload certificate in " + tmp + ": " + e, e);
        }
    }

    private static Path createTempDirectory() {
        try {
            return Files.createTempDirectory("meshproxy-demo-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the demo's certificates", e);
        }
    }

    /** Deletes {@code root} and everything under it; a failure is printed, not thrown (this runs at exit). */
    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            System.err.println("meshproxy demo: could not delete " + root + ": " + e);
        }
    }

    private static int freeLoopbackPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port for the inbound listener", e);
        }
    }

    /** The embedded YAML with this run's ports and certificate files, through {@link ConfigLoader#loadSources}. */
    static LoadedConfig load(Ports ports, int reviewsV1, int reviewsV2, Path certificates) {
        String yaml = fill(template(), Map.of(
                "ADMIN_PORT", ports.admin(),
                "OUTBOUND_PORT", ports.outbound(),
                "INBOUND_PORT", ports.inbound(),
                "REVIEWS_V1_PORT", reviewsV1,
                "REVIEWS_V2_PORT", reviewsV2,
                "CERT_DIR", yamlPath(certificates)));
        try {
            return ConfigLoader.loadSources(List.of(new ConfigSource("embedded:" + RESOURCE, yaml)));
        } catch (ConfigFileException e) {
            throw new IllegalStateException("the embedded demo configuration is invalid: " + e.getMessage(), e);
        }
    }

    /** An absolute path fit for a double-quoted YAML scalar (forward slashes; quotes and backslashes refused). */
    private static String yamlPath(Path p) {
        String s = p.toAbsolutePath().toString().replace(java.io.File.separatorChar, '/');
        if (s.contains("\"") || s.contains("\\")) {
            throw new IllegalStateException("the demo's certificate directory has an unusual name: " + s);
        }
        return s;
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
    static String fill(String template, Map<String, ?> values) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Object v = values.get(m.group(1));
            if (v == null) {
                throw new IllegalStateException("no value for ${" + m.group(1) + "} in " + RESOURCE);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(String.valueOf(v)));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The proxy's run wiring (drain and stop go through it). */
    public Sidecar sidecar() {
        return sidecar;
    }

    /** The proxy. */
    public MeshProxy mesh() {
        return sidecar.mesh();
    }

    /** The demo workload's SPIFFE ID, {@code spiffe://cluster.local/ns/default/sa/bookinfo-reviews}. */
    public String spiffeId() {
        return spiffeId;
    }

    /** The directory of the workload certificate, key and trust bundle (deleted by {@link #close()}). */
    public Path certificateDirectory() {
        return certificates;
    }

    /**
     * The peer principal the demo service {@code version} (v1 or v2) last received in
     * {@code x-forwarded-client-cert}, or null if none yet.
     */
    public String lastPeer(String version) {
        return services.lastPeer(version);
    }

    /** The port the demo service {@code version} (v1 or v2) listens on. */
    public int servicePort(String version) {
        return services.port(version);
    }

    /** Drains and stops the proxy, then the demo services; deletes the certificates. */
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
