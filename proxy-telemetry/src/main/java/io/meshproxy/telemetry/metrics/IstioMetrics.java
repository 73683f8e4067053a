package io.meshproxy.telemetry.metrics;

import io.meshproxy.core.AdminEndpoint;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.http.ResponseFlag;
import io.meshproxy.core.upstream.Cluster;
import io.meshproxy.telemetry.RequestTelemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.TelemetrySink;
import io.meshproxy.telemetry.WorkloadInfo;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Istio's standard metrics on Micrometer, under Istio's exact Prometheus names and labels, plus Envoy's cluster
 * statistics, served at {@code /stats/prometheus} and {@code /stats}.
 *
 * <table>
 *   <caption>What each request and connection records</caption>
 *   <tr><th>Prometheus name</th><th>Micrometer meter</th></tr>
 *   <tr><td>{@code istio_requests_total}</td><td>counter {@code istio.requests}</td></tr>
 *   <tr><td>{@code istio_request_duration_milliseconds}</td><td>distribution summary, Istio's millisecond buckets</td></tr>
 *   <tr><td>{@code istio_request_bytes}, {@code istio_response_bytes}</td><td>distribution summaries, Istio's byte buckets</td></tr>
 *   <tr><td>{@code istio_tcp_connections_opened_total}, {@code istio_tcp_connections_closed_total},
 *       {@code istio_tcp_received_bytes_total}, {@code istio_tcp_sent_bytes_total}</td><td>counters, per downstream connection</td></tr>
 *   <tr><td>{@code envoy_cluster_<stat>{cluster_name=...}}</td><td>read from each cluster's {@code ClusterStats} at scrape time</td></tr>
 * </table>
 *
 * <p>Labels are Istio's ({@code reporter}, {@code source_workload}, ..., {@code connection_security_policy}).
 * Principals are SPIFFE URIs as Istio writes them. Reported by the destination (an INBOUND listener), a request
 * that came over mTLS has {@code source_principal} = the caller's ID from its certificate,
 * {@code destination_principal} = this workload's own ID ({@link WorkloadInfo#principal()}) and
 * {@code connection_security_policy="mutual_tls"}; a plaintext one has {@code unknown} principals and
 * {@code none}. Reported by the source (an OUTBOUND listener), a request sent over mTLS (ISTIO_MUTUAL, or any
 * upstream TLS whose certificate has a SPIFFE ID) has {@code source_principal} = this workload's own ID and
 * {@code destination_principal} = the upstream's ID from its certificate; {@code connection_security_policy}
 * stays {@code unknown} at the source, as in Istio.
 * None is unbounded: the destination service comes from configured cluster names only, the response code is
 * 100..599 (anything else {@code 0}), the response flags come from Envoy's fixed set; paths, hosts and client
 * addresses are never labels. A hard cap ({@link TelemetryConfig.Metrics#maxSeries()}) bounds the meters created;
 * a request whose label combination would pass it is counted in {@code meshproxy_metrics_series_dropped_total}
 * instead.
 *
 * <p>Hot path: a request's meters are found by its cluster name (a {@link ConcurrentHashMap} lookup with the
 * configuration's own string) and a packed {@code long} of its other varying labels (a lock-free
 * {@link SeriesTable} lookup), the peer's principal among them as a small interned number
 * ({@link PrincipalTable}, bounded by the series cap); recording is one counter increment and three
 * distribution records. Labels are built only for the first request of a combination.
 *
 * <p>TLS handshakes of the listeners are counted as Envoy counts them ({@code envoy_listener_ssl_handshake},
 * {@code envoy_listener_ssl_session_reused}, {@code envoy_listener_ssl_connection_error}, label
 * {@code listener_name}), those to upstream clusters in the cluster statistics ({@code envoy_cluster_ssl_*}).
 */
public final class IstioMetrics implements TelemetrySink {
    /** Istio's default buckets of {@code istio_request_duration_milliseconds} (ms). */
    public static final double[] DURATION_BUCKETS_MS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
            10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
    /** Istio's default buckets of {@code istio_request_bytes} and {@code istio_response_bytes}. */
    public static final double[] BYTE_BUCKETS = {1, 10, 100, 1000, 10000, 100000, 1e6, 1e7, 1e8, 1e9};
    /** The Prometheus text exposition format, version 0.0.4. */
    public static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    static final String REQUESTS = "istio.requests";
    static final String DURATION = "istio.request.duration.milliseconds";
    static final String REQUEST_BYTES = "istio.request.bytes";
    static final String RESPONSE_BYTES = "istio.response.bytes";
    static final String TCP_OPENED = "istio.tcp.connections.opened";
    static final String TCP_CLOSED = "istio.tcp.connections.closed";
    static final String TCP_SENT = "istio.tcp.sent.bytes";
    static final String TCP_RECEIVED = "istio.tcp.received.bytes";
    static final String DROPPED = "meshproxy.metrics.series.dropped";

    private static final ResponseFlag[] FLAGS = ResponseFlag.values();
    private static final int SOURCE = 0;
    private static final int DESTINATION = 1;
    /** Where the peer principal's index starts in a series key (above the response flags). */
    private static final int PRINCIPAL_SHIFT = 48;
    private static final long PRINCIPAL_MASK = (1L << PrincipalTable.BITS) - 1;

    static {
        if (17 + FLAGS.length > PRINCIPAL_SHIFT) {
            throw new AssertionError("response flags overlap the principal bits of the series key");
        }
    }
    /** Micrometer's Prometheus registry adds a {@code _max} gauge to every summary; Istio has none. */
    private static final Set<String> MAX_FAMILIES = Set.of("istio_request_duration_milliseconds_max",
            "istio_request_bytes_max", "istio_response_bytes_max");

    private final TelemetryConfig config;
    private final MeterRegistry registry;
    private final boolean ownRegistry;
    private final StatsMatcher matcher;
    private final int maxSeries;
    private final AtomicInteger series = new AtomicInteger();
    private final Counter dropped;
    private final boolean requestsOn;
    private final boolean durationOn;
    private final boolean requestBytesOn;
    private final boolean responseBytesOn;
    private final int metersPerRequestSeries;
    private final int metersPerTcpSeries;
    private final ConcurrentHashMap<String, ClusterSeries> byCluster = new ConcurrentHashMap<>();
    private final ClusterSeries noCluster;
    private final ConcurrentHashMap<String, TcpSeries> byListener = new ConcurrentHashMap<>();
    private final ClusterStatsExposition clusterStats;
    private final PrincipalTable principals;
    private final ListenerSslStats listenerSsl;

    private IstioMetrics(TelemetryConfig config, MeterRegistry registry) {
        this.config = config;
        this.ownRegistry = registry == null;
        this.registry = registry == null ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : registry;
        TelemetryConfig.Metrics m = config.metrics();
        this.matcher = new StatsMatcher(m.inclusionRegexps(), m.exclusionRegexps());
        this.registry.config().meterFilter(matcher);
        this.maxSeries = m.maxSeries();
        this.dropped = Counter.builder(DROPPED)
                .description("Requests and connections not recorded because the series cap (maxSeries) was reached")
                .register(this.registry);
        this.requestsOn = matcher.keeps("istio_requests_total");
        this.durationOn = matcher.keeps("istio_request_duration_milliseconds");
        this.requestBytesOn = matcher.keeps("istio_request_bytes");
        this.responseBytesOn = matcher.keeps("istio_response_bytes");
        this.metersPerRequestSeries = (requestsOn ? 1 : 0) + (durationOn ? 1 : 0) + (requestBytesOn ? 1 : 0)
                + (responseBytesOn ? 1 : 0);
        this.metersPerTcpSeries = (matcher.keeps("istio_tcp_connections_opened_total") ? 1 : 0)
                + (matcher.keeps("istio_tcp_connections_closed_total") ? 1 : 0)
                + (matcher.keeps("istio_tcp_sent_bytes_total") ? 1 : 0)
                + (matcher.keeps("istio_tcp_received_bytes_total") ? 1 : 0);
        this.noCluster = new ClusterSeries(DestinationService.UNKNOWN);
        this.clusterStats = new ClusterStatsExposition(matcher);
        this.principals = new PrincipalTable(maxSeries);
        this.listenerSsl = new ListenerSslStats(matcher, maxSeries);
    }

    /**
     * Istio's metrics as {@code config.metrics()} says, recorded in {@code registry} (an embedding application's
     * own) or, when null, in a {@link PrometheusMeterRegistry} of their own.
     */
    public static IstioMetrics create(TelemetryConfig config, MeterRegistry registry) {
        return new IstioMetrics(config == null ? TelemetryConfig.DEFAULT : config, registry);
    }

    /** The registry the metrics are recorded in. */
    public MeterRegistry registry() {
        return registry;
    }

    /** {@code /stats/prometheus} (Prometheus text format 0.0.4) and {@code /stats} (plain text, Envoy-like). */
    public Map<String, AdminEndpoint> adminEndpoints() {
        Map<String, AdminEndpoint> m = new LinkedHashMap<>();
        m.put("/stats/prometheus", q -> prometheus());
        m.put("/stats", this::plain);
        return m;
    }

    /**
     * Exports Envoy's cluster statistics ({@code envoy_cluster_upstream_rq_total{cluster_name="..."}}, ...) of
     * the clusters {@code clusters} returns, read at each scrape: clusters added or removed by a configuration
     * update appear and disappear with it.
     */
    public void bindClusters(Supplier<Map<String, Cluster>> clusters) {
        clusterStats.bind(clusters);
    }

    /** Meters created for Istio's metrics so far (at most {@code maxSeries}). */
    public int seriesCount() {
        return series.get();
    }

    // ---------------------------------------------------------------- hot path

    @Override
    public void onRequestEnd(RequestTelemetry t, RequestContext ctx, RequestLog log) {
        if (metersPerRequestSeries == 0) {
            return;
        }
        String cluster = log.upstreamCluster();
        ClusterSeries cs;
        if (cluster == null) {
            cs = noCluster;
        } else {
            cs = byCluster.get(cluster);
            if (cs == null && (cs = newCluster(cluster)) == null) {
                dropped.increment();
                return;
            }
        }
        int reporter = "destination".equals(t.reporter) ? DESTINATION : SOURCE;
        // the peer: the caller at the destination, the upstream at the source
        int principal = principals.indexOf(reporter == DESTINATION ? ctx.peerPrincipal() : ctx.upstreamPeerPrincipal());
        if (principal < 0) {
            dropped.increment();
            return;
        }
        long key = key(log.responseCode(), ctx, t) | (long) principal << PRINCIPAL_SHIFT;
        SeriesTable<RequestSeries> table = cs.requests[reporter];
        RequestSeries s = table.get(key);
        if (s == null && (s = newRequestSeries(cs, reporter, key)) == null) {
            dropped.increment();
            return;
        }
        s.record(log.durationNanos() / 1_000_000.0, log.bytesReceived(), log.bytesSent());
    }

    @Override
    public void onTlsHandshake(String listenerName, boolean resumed, long durationNanos, String peerPrincipal) {
        listenerSsl.handshake(listenerName, resumed);
    }

    @Override
    public void onTlsHandshakeFailed(String listenerName, long durationNanos) {
        listenerSsl.connectionError(listenerName);
    }

    @Override
    public void onConnectionOpen(String listenerName, InetSocketAddress remote, InetSocketAddress local) {
        TcpSeries s = tcp(listenerName);
        if (s != null && s.opened != null) {
            s.opened.increment();
        }
    }

    @Override
    public void onConnectionClose(String listenerName, InetSocketAddress remote, InetSocketAddress local,
            long bytesReceived, long bytesSent) {
        TcpSeries s = tcp(listenerName);
        if (s == null) {
            return;
        }
        if (s.closed != null) {
            s.closed.increment();
        }
        if (s.received != null) {
            s.received.increment(bytesReceived);
        }
        if (s.sent != null) {
            s.sent.increment(bytesSent);
        }
    }

    /**
     * The varying labels of a request packed in a long: response code (bits 0-9), gRPC status + 1 (10-14),
     * gRPC (15), TLS downstream (16), Envoy's response flags (17 on, one bit per {@link ResponseFlag}); the
     * caller adds the peer principal's {@link PrincipalTable} index at bit 48.
     */
    static long key(int responseCode, RequestContext ctx, RequestTelemetry t) {
        long k = responseCode >= 100 && responseCode <= 599 ? responseCode : 0;
        if (t.grpc) {
            int gs = t.grpcStatus < 0 ? 0 : t.grpcStatus > 16 ? 2 + 1 : t.grpcStatus + 1;
            k |= (long) gs << 10;
            k |= 1L << 15;
        }
        if (ctx.secure()) {
            k |= 1L << 16;
        }
        for (int i = 0; i < FLAGS.length; i++) {
            if (ctx.hasResponseFlag(FLAGS[i])) {
                k |= 1L << (17 + i);
            }
        }
        return k;
    }

    private TcpSeries tcp(String listenerName) {
        if (metersPerTcpSeries == 0 || listenerName == null) {
            return null;
        }
        TcpSeries s = byListener.get(listenerName);
        if (s == null && (s = newTcpSeries(listenerName)) == null) {
            dropped.increment();
        }
        return s;
    }

    // ---------------------------------------------------------------- first request of a combination

    private ClusterSeries newCluster(String cluster) {
        if (byCluster.size() >= maxSeries) {
            return null; // cluster names come from configuration, but keep even that bounded
        }
        return byCluster.computeIfAbsent(cluster, c -> new ClusterSeries(DestinationService.ofCluster(c)));
    }

    private boolean reserve(int meters) {
        while (true) {
            int n = series.get();
            if (n + meters > maxSeries) {
                return false;
            }
            if (series.compareAndSet(n, n + meters)) {
                return true;
            }
        }
    }

    private RequestSeries newRequestSeries(ClusterSeries cs, int reporter, long key) {
        if (series.get() + metersPerRequestSeries > maxSeries) {
            return null; // full: no lock taken, nothing cached
        }
        return cs.requests[reporter].computeIfAbsent(key, k -> {
            if (!reserve(metersPerRequestSeries)) {
                return null;
            }
            Tags tags = requestTags(cs, reporter, k);
            return new RequestSeries(
                    requestsOn ? Counter.builder(REQUESTS).tags(tags)
                            .description("Requests processed by the proxy (Istio standard metric)").register(registry) : null,
                    durationOn ? DistributionSummary.builder(DURATION).tags(tags)
                            .description("Request duration in milliseconds (Istio standard metric)")
                            .serviceLevelObjectives(DURATION_BUCKETS_MS).register(registry) : null,
                    requestBytesOn ? DistributionSummary.builder(REQUEST_BYTES).tags(tags)
                            .description("Request body sizes in bytes (Istio standard metric)")
                            .serviceLevelObjectives(BYTE_BUCKETS).register(registry) : null,
                    responseBytesOn ? DistributionSummary.builder(RESPONSE_BYTES).tags(tags)
                            .description("Response body sizes in bytes (Istio standard metric)")
                            .serviceLevelObjectives(BYTE_BUCKETS).register(registry) : null);
        });
    }

    private TcpSeries newTcpSeries(String listenerName) {
        if (byListener.size() >= maxSeries || series.get() + metersPerTcpSeries > maxSeries) {
            return null;
        }
        return byListener.computeIfAbsent(listenerName, l -> {
            if (!reserve(metersPerTcpSeries)) {
                return null;
            }
            int reporter = "destination".equals(config.reporter(l)) ? DESTINATION : SOURCE;
            DestinationService svc = reporter == DESTINATION
                    ? DestinationService.ofWorkload(config.workload()) : DestinationService.UNKNOWN;
            Tags tags = peerTags(reporter, svc, 0).and("request_protocol", "tcp", "response_flags", "-",
                    "connection_security_policy", reporter == DESTINATION ? "none" : "unknown");
            return new TcpSeries(counter(TCP_OPENED, tags, "Downstream connections opened (Istio standard metric)"),
                    counter(TCP_CLOSED, tags, "Downstream connections closed (Istio standard metric)"),
                    counter(TCP_SENT, tags, "Bytes sent downstream (Istio standard metric)"),
                    counter(TCP_RECEIVED, tags, "Bytes received from downstream (Istio standard metric)"));
        });
    }

    private Counter counter(String name, Tags tags, String description) {
        String prometheusName = name.replace('.', '_') + "_total";
        return matcher.keeps(prometheusName)
                ? Counter.builder(name).tags(tags).description(description).register(registry) : null;
    }

    private Tags requestTags(ClusterSeries cs, int reporter, long key) {
        int code = (int) (key & 0x3FF);
        boolean grpc = (key & (1L << 15)) != 0;
        int gs = (int) ((key >>> 10) & 0x1F);
        boolean secure = (key & (1L << 16)) != 0;
        int principal = (int) ((key >>> PRINCIPAL_SHIFT) & PRINCIPAL_MASK);
        StringBuilder flags = new StringBuilder();
        for (int i = 0; i < FLAGS.length; i++) {
            if ((key & (1L << (17 + i))) != 0) {
                if (flags.length() > 0) {
                    flags.append(',');
                }
                flags.append(FLAGS[i].name());
            }
        }
        DestinationService svc = cs.service;
        if (reporter == DESTINATION && svc == DestinationService.UNKNOWN) {
            svc = DestinationService.ofWorkload(config.workload());
        }
        String policy;
        if (reporter == SOURCE) {
            policy = "unknown"; // Istio: the source does not report the connection's security
        } else if (principal != 0) {
            policy = "mutual_tls";
        } else {
            // plaintext; a TLS downstream without a SPIFFE identity is not mutual TLS Istio can vouch for
            policy = secure ? "unknown" : "none";
        }
        return peerTags(reporter, svc, principal).and(
                Tag.of("request_protocol", grpc ? "grpc" : "http"),
                Tag.of("response_code", Integer.toString(code)),
                Tag.of("grpc_response_status", grpc && gs > 0 ? Integer.toString(gs - 1) : ""),
                Tag.of("response_flags", flags.length() == 0 ? "-" : flags.toString()),
                Tag.of("connection_security_policy", policy));
    }

    /**
     * The workload labels: the side that reports is this proxy's workload; the other side is {@code unknown}
     * (Istio learns it from peer metadata exchange, which meshproxy does not do). Principals come with mTLS:
     * {@code peer} is the index of the peer's principal (0: none, both principals {@code unknown}); with one,
     * this side's principal is the workload's own SPIFFE ID.
     */
    private Tags peerTags(int reporter, DestinationService svc, int peer) {
        WorkloadInfo me = config.workload();
        String u = WorkloadInfo.UNKNOWN;
        boolean src = reporter == SOURCE;
        String own = peer == 0 ? u : me.principal();
        String other = principals.uri(peer);
        return Tags.of(
                Tag.of("reporter", src ? "source" : "destination"),
                Tag.of("source_workload", src ? me.name() : u),
                Tag.of("source_workload_namespace", src ? me.namespace() : u),
                Tag.of("source_principal", src ? own : other),
                Tag.of("source_app", src ? me.app() : u),
                Tag.of("source_version", src ? me.version() : u),
                Tag.of("destination_workload", src ? u : me.name()),
                Tag.of("destination_workload_namespace", src ? u : me.namespace()),
                Tag.of("destination_principal", src ? other : own),
                Tag.of("destination_app", src ? u : me.app()),
                Tag.of("destination_version", src ? u : me.version()),
                Tag.of("destination_service", svc.service()),
                Tag.of("destination_service_name", svc.name()),
                Tag.of("destination_service_namespace", svc.namespace()));
    }

    // ---------------------------------------------------------------- exposition

    private AdminEndpoint.Response prometheus() {
        if (!(registry instanceof PrometheusMeterRegistry p)) {
            return new AdminEndpoint.Response(404, "text/plain; charset=utf-8",
                    "meshproxy records its metrics in the application's " + registry.getClass().getName()
                            + ", not a PrometheusMeterRegistry: export them the application's way, or read /stats\n");
        }
        String scrape = p.scrape(PROMETHEUS_CONTENT_TYPE);
        StringBuilder out = new StringBuilder(scrape.length() + 4096);
        dropFamilies(scrape, MAX_FAMILIES, out);
        clusterStats.writePrometheus(out);
        listenerSsl.writePrometheus(out);
        return new AdminEndpoint.Response(200, PROMETHEUS_CONTENT_TYPE, out.toString());
    }

    /** Copies the exposition text without the samples and comments of {@code families}. */
    static void dropFamilies(String text, Set<String> families, StringBuilder out) {
        int i = 0;
        int n = text.length();
        while (i < n) {
            int end = text.indexOf('\n', i);
            if (end < 0) {
                end = n;
            }
            String family = familyOf(text, i, end);
            if (family == null || !families.contains(family)) {
                out.append(text, i, end).append('\n');
            }
            i = end + 1;
        }
    }

    private static String familyOf(String text, int start, int end) {
        int from = start;
        if (text.startsWith("# HELP ", start) || text.startsWith("# TYPE ", start)) {
            from = start + 7;
        } else if (text.startsWith("#", start)) {
            return null;
        }
        int to = from;
        while (to < end && text.charAt(to) != '{' && text.charAt(to) != ' ') {
            to++;
        }
        return text.substring(from, to);
    }

    private AdminEndpoint.Response plain(Map<String, List<String>> query) {
        List<String> f = query.get("filter");
        Pattern filter = f == null || f.isEmpty() ? null : Pattern.compile(f.get(0));
        List<String> lines = new ArrayList<>();
        for (Meter meter : registry.getMeters()) {
            String name = meter.getId().getName();
            if (!name.startsWith("istio.") && !name.startsWith("meshproxy.")) {
                continue;
            }
            String base = name.replace('.', '_');
            String labels = labels(meter.getId());
            if (meter instanceof Counter c) {
                lines.add(base + "_total" + labels + ": " + number(c.count()));
            } else if (meter instanceof io.micrometer.core.instrument.FunctionCounter c) {
                // counts kept elsewhere and read here (the sidecar's rbac and jwt_authn counters)
                lines.add(base + "_total" + labels + ": " + number(c.count()));
            } else if (meter instanceof DistributionSummary d) {
                lines.add(base + "_count" + labels + ": " + d.count());
                lines.add(base + "_sum" + labels + ": " + number(d.totalAmount()));
            }
        }
        clusterStats.writePlain(lines);
        listenerSsl.writePlain(lines);
        lines.sort(null);
        StringBuilder out = new StringBuilder();
        for (String l : lines) {
            if (filter == null || filter.matcher(l).find()) {
                out.append(l).append('\n');
            }
        }
        return AdminEndpoint.Response.text(out.toString());
    }

    private static String labels(Meter.Id id) {
        List<Tag> tags = id.getTags();
        if (tags.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("{");
        for (Tag t : tags) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append(t.getKey()).append("=\"");
            ClusterStatsExposition.escape(t.getValue(), sb);
            sb.append('"');
        }
        return sb.append('}').toString();
    }

    static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** Closes the registry when it is meshproxy's own; an application's registry stays the application's. */
    @Override
    public void close() {
        if (ownRegistry) {
            registry.close();
        }
    }

    // ---------------------------------------------------------------- series

    /** Everything recorded for requests to one cluster: its service labels and its series by reporter. */
    private static final class ClusterSeries {
        final DestinationService service;
        @SuppressWarnings("unchecked")
        final SeriesTable<RequestSeries>[] requests = new SeriesTable[] {new SeriesTable<>(), new SeriesTable<>()};

        ClusterSeries(DestinationService service) {
            this.service = service;
        }
    }

    /** The meters of one label combination; a metric filtered out is null. */
    private record RequestSeries(Counter requests, DistributionSummary duration, DistributionSummary requestBytes,
            DistributionSummary responseBytes) {
        void record(double durationMillis, long bytesReceived, long bytesSent) {
            if (requests != null) {
                requests.increment();
            }
            if (duration != null) {
                duration.record(durationMillis);
            }
            if (requestBytes != null) {
                requestBytes.record(bytesReceived);
            }
            if (responseBytes != null) {
                responseBytes.record(bytesSent);
            }
        }
    }

    /** The TCP meters of one listener; a metric filtered out is null. */
    private record TcpSeries(Counter opened, Counter closed, Counter sent, Counter received) {}
}
