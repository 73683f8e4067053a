package io.meshproxy.core.internal.admin;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.ConfigJson;
import io.meshproxy.core.internal.transport.Transport;
import io.meshproxy.core.upstream.Cluster;
import io.meshproxy.core.upstream.Host;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin API (Netty glue, hence internal: users reach it over HTTP, never as a Java type), Envoy's
 * endpoints under Envoy's names, bound to 127.0.0.1 unless configured otherwise:
 * <ul>
 *   <li>{@code GET /ready}: 200 {@code LIVE} while serving, 503 with the state otherwise (for readiness probes);
 *   <li>{@code GET /healthz}: 200 while the process runs (liveness);
 *   <li>{@code GET /server_info}: version, state, uptime, transport, memory, as JSON;
 *   <li>{@code GET /config_dump}: the effective configuration as JSON, with the {@code version_info} it came from;
 *   <li>{@code GET /clusters}: per cluster its circuit-breaker thresholds, resources in use, breaker state,
 *       panic threshold and statistics; per endpoint its health flags ({@code healthy}, {@code /failed_active_hc},
 *       {@code /failed_outlier_check}), ejection time left, weight, active requests and open connections; in
 *       Envoy's text format ({@code cluster::host:port::stat::value}; {@code ?format=json} for JSON);
 *   <li>{@code POST /drain_listeners}: graceful drain of every listener.
 * </ul>
 */
public final class AdminServer {
    public static final String VERSION = "0.1.0";

    private final MeshProxy proxy;
    private final AdminConfig config;
    private final EventLoopGroup group;
    private Channel channel;

    private final Map<String, io.meshproxy.core.AdminEndpoint> extensions;
    /** Extension endpoints (a metrics scrape may take milliseconds) run here, never on an event loop. */
    private java.util.concurrent.ExecutorService extensionThread;

    public AdminServer(MeshProxy proxy, AdminConfig config, EventLoopGroup group) {
        this(proxy, config, group, Map.of());
    }

    public AdminServer(MeshProxy proxy, AdminConfig config, EventLoopGroup group,
            Map<String, io.meshproxy.core.AdminEndpoint> extensions) {
        this.proxy = proxy;
        this.config = config;
        this.group = group;
        this.extensions = extensions;
        if (!extensions.isEmpty()) {
            extensionThread = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "meshproxy-admin");
                t.setDaemon(true);
                return t;
            });
        }
    }

    public void start() throws InterruptedException {
        channel = new ServerBootstrap().group(group).channel(Transport.serverChannel())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536), new Handler());
                    }
                })
                .bind(new InetSocketAddress(config.address(), config.port())).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        if (extensionThread != null) {
            extensionThread.shutdownNow();
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String path = q.path();
            boolean post = req.method() == HttpMethod.POST;
            io.meshproxy.core.AdminEndpoint extension = extensions.get(path);
            if (extension != null) {
                boolean keepAlive = HttpUtil.isKeepAlive(req);
                extensionThread.execute(() -> {
                    FullHttpResponse r;
                    try {
                        io.meshproxy.core.AdminEndpoint.Response out = extension.handle(q.parameters());
                        r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(out.status()),
                                Unpooled.copiedBuffer(out.body(), StandardCharsets.UTF_8));
                        r.headers().set(HttpHeaderNames.CONTENT_TYPE, out.contentType());
                    } catch (RuntimeException e) {
                        r = text(500, "admin endpoint " + path + " failed: " + e + "\n");
                    }
                    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
                    HttpUtil.setKeepAlive(r, keepAlive);
                    var f = ctx.writeAndFlush(r);
                    if (!keepAlive) {
                        f.addListener(ChannelFutureListener.CLOSE);
                    }
                });
                return;
            }
            FullHttpResponse resp;
            switch (path) {
                case "/ready" -> resp = proxy.state() == MeshProxy.State.LIVE
                        ? text(200, "LIVE\n") : text(503, proxy.state() + "\n");
                case "/healthz" -> resp = text(200, "OK\n");
                case "/server_info" -> resp = json(200, ConfigJson.write(serverInfo()));
                case "/config_dump" -> resp = json(200, configDump());
                case "/clusters" -> resp = q.parameters().containsKey("format")
                        && "json".equals(q.parameters().get("format").get(0))
                        ? json(200, ConfigJson.write(clustersJson())) : text(200, clustersText());
                case "/drain_listeners" -> {
                    if (!post) {
                        resp = text(405, "use POST\n");
                    } else {
                        proxy.drain();
                        resp = text(200, "OK\n");
                    }
                }
                case "/" -> resp = text(200, "/ready\n/healthz\n/server_info\n/config_dump\n/clusters\n/drain_listeners (POST)\n");
                default -> resp = text(404, "no admin endpoint " + path + "\n");
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpUtil.setKeepAlive(resp, keepAlive);
            var f = ctx.writeAndFlush(resp);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The configuration in force, led by the version it came from (Envoy's {@code version_info}). */
    private String configDump() {
        String config = ConfigJson.toJson(proxy.config());
        return "{\"version_info\":" + ConfigJson.write(proxy.versionInfo()) + "," + config.substring(1);
    }

    private Map<String, Object> serverInfo() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", VERSION);
        m.put("state", proxy.state().name());
        m.put("uptime_current_epoch", ((System.currentTimeMillis() - proxy.startedAtMillis()) / 1000) + "s");
        m.put("transport", Transport.name());
        m.put("java_version", System.getProperty("java.version"));
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        Map<String, Object> mem = new LinkedHashMap<>();
        mem.put("heap_used_bytes", heap.getUsed());
        mem.put("heap_committed_bytes", heap.getCommitted());
        mem.put("heap_max_bytes", heap.getMax());
        mem.put("direct_used_bytes", io.netty.util.internal.PlatformDependent.usedDirectMemory());
        m.put("memory", mem);
        m.put("listeners", proxy.listenerConnections());
        return m;
    }

    /**
     * Envoy's {@code /clusters} text: {@code cluster::stat::value} lines for the cluster (thresholds, resources in
     * use, breaker state, panic threshold, statistics), then {@code cluster::host:port::stat::value} lines per
     * host (health flags, ejection time left, weight, active requests and connections).
     */
    private String clustersText() {
        StringBuilder sb = new StringBuilder();
        for (Cluster c : proxy.clusters().values()) {
            String cp = c.name() + "::";
            clusterFields(c).forEach((k, v) -> sb.append(cp).append(k).append("::").append(v).append('\n'));
            c.stats().snapshot().forEach((k, v) -> sb.append(cp).append(k).append("::").append(v).append('\n'));
            for (Host h : c.hosts()) {
                String p = cp + h.hostPort() + "::";
                sb.append(p).append("health_flags::").append(h.healthFlags()).append('\n');
                sb.append(p).append("ejected_remaining_ms::").append(ejectedRemainingMillis(c, h)).append('\n');
                sb.append(p).append("weight::").append(h.weight()).append('\n');
                sb.append(p).append("rq_active::").append(h.activeRequests()).append('\n');
                sb.append(p).append("cx_active::").append(h.openConnections()).append('\n');
            }
        }
        return sb.toString();
    }

    /** The cluster-level fields of {@code /clusters}, in both formats. */
    private static Map<String, Object> clusterFields(Cluster c) {
        Map<String, Object> m = new LinkedHashMap<>();
        var limits = c.resources().limits();
        m.put("default_priority::max_connections", limits.maxConnections());
        m.put("default_priority::max_pending_requests", limits.maxPendingRequests());
        m.put("default_priority::max_requests", limits.maxRequests());
        m.put("default_priority::max_retries", limits.maxRetries());
        m.put("upstream_cx_active", c.resources().connections());
        m.put("upstream_rq_pending_active", c.resources().pendingRequests());
        m.put("upstream_rq_active", c.resources().activeRequests());
        m.put("upstream_rq_retry_active", c.resources().activeRetries());
        m.put("breaker_state", c.breakerState());
        m.put("healthy_panic_threshold", c.panicThreshold());
        return m;
    }

    private static long ejectedRemainingMillis(Cluster c, Host h) {
        return c.outlierDetector() == null ? 0 : c.outlierDetector().ejectedRemainingMillis(h);
    }

    private Map<String, Object> clustersJson() {
        List<Object> cs = new ArrayList<>();
        for (Cluster c : proxy.clusters().values()) {
            List<Object> hosts = new ArrayList<>();
            for (Host h : c.hosts()) {
                Map<String, Object> hm = new LinkedHashMap<>();
                hm.put("address", h.hostPort());
                hm.put("healthy", h.healthy());
                hm.put("health_flags", h.healthFlags());
                hm.put("failed_active_hc", h.failedActiveHealthCheck());
                hm.put("failed_outlier_check", h.failedOutlierCheck());
                hm.put("ejected_remaining_ms", ejectedRemainingMillis(c, h));
                hm.put("weight", h.weight());
                hm.put("labels", h.labels());
                hm.put("rq_active", h.activeRequests());
                hm.put("cx_active", h.openConnections());
                hosts.add(hm);
            }
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("name", c.name());
            Map<String, Object> thresholds = new LinkedHashMap<>();
            Map<String, Object> resources = new LinkedHashMap<>();
            clusterFields(c).forEach((k, v) -> {
                if (k.startsWith("default_priority::")) {
                    thresholds.put(k.substring("default_priority::".length()), v);
                } else if (k.startsWith("upstream_")) {
                    resources.put(k, v);
                } else {
                    cm.put(k, v);
                }
            });
            cm.put("circuit_breakers", thresholds);
            cm.put("resources", resources);
            cm.put("stats", c.stats().snapshot());
            cm.put("host_statuses", hosts);
            cs.add(cm);
        }
        return Map.of("cluster_statuses", cs);
    }

    private static FullHttpResponse text(int status, String body) {
        return response(status, "text/plain; charset=utf-8", body);
    }

    private static FullHttpResponse json(int status, String body) {
        return response(status, "application/json", body);
    }

    private static FullHttpResponse response(int status, String type, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(b));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, b.length);
        return r;
    }
}
