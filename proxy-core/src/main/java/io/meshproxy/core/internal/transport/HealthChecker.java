package io.meshproxy.core.internal.transport;

import io.meshproxy.core.config.HealthCheck;
import io.meshproxy.core.upstream.ClusterStats;
import io.meshproxy.core.upstream.Host;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Active HTTP health checking of a cluster's hosts (Envoy's HTTP health checker): every {@code interval}
 * after the previous check ended, each host gets {@code GET path} over HTTP/1.1; a 200 answer (headers and
 * body) within {@code timeout} is a success, anything else (another status, timeout, connect failure, closed
 * connection) a failure. {@code unhealthyThreshold} failures in a row set the host's {@code /failed_active_hc}
 * flag, {@code healthyThreshold} successes in a row clear it; hosts start healthy. A connection is kept for
 * the next check while the host keeps it alive, and dropped after a failure.
 *
 * <p>Everything runs on one event loop of the proxy's group, so the per-host state needs no lock; only the
 * host's health flag is shared (an atomic). {@link #close()} stops the checks and closes their connections.
 */
public final class HealthChecker implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HealthChecker.class);

    private final String cluster;
    private final HealthCheck config;
    private final ClusterStats stats;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final List<HostCheck> checks = new ArrayList<>();
    private volatile boolean closed;
    private boolean started;

    /**
     * @param scheduler the proxy's event-loop group (one of its loops is used) or one event loop
     * @throws IllegalArgumentException when {@code scheduler} is not a Netty event loop or group
     */
    public HealthChecker(String cluster, HealthCheck config, List<Host> hosts, ClusterStats stats,
            ScheduledExecutorService scheduler, Duration connectTimeout) {
        this.cluster = cluster;
        this.config = config;
        this.stats = stats;
        if (scheduler instanceof EventLoop l) {
            this.loop = l;
        } else if (scheduler instanceof EventLoopGroup g) {
            this.loop = g.next();
        } else {
            throw new IllegalArgumentException("active health checking needs the proxy's event loops, got "
                    + scheduler);
        }
        this.bootstrap = Transport.upstreamBootstrap(loop, connectTimeout);
        for (Host h : hosts) {
            checks.add(new HostCheck(h));
        }
    }

    /** Starts checking every host: the first checks go out at once. */
    public void start() {
        execute(() -> {
            if (closed || started) {
                return;
            }
            started = true;
            for (HostCheck c : checks) {
                c.scheduleNext(0);
            }
        });
    }

    /** Stops checking and closes the checks' connections; hosts keep their current health. */
    @Override
    public void close() {
        closed = true;
        execute(() -> checks.forEach(HostCheck::stop));
    }

    private void execute(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // The event loops are shutting down: their channels and timers go with them.
        }
    }

    /** The checks of one host; confined to {@link #loop}. */
    private final class HostCheck {
        final Host host;
        final String authority;
        Channel channel;
        ScheduledFuture<?> next;
        ScheduledFuture<?> timeout;
        /** Identifies the check in flight, so late events of an abandoned check are ignored. */
        long checkId;
        boolean inFlight;
        int successes;
        int failures;

        HostCheck(Host host) {
            this.host = host;
            this.authority = config.host() != null ? config.host() : host.hostPort();
        }

        void scheduleNext(long delayNanos) {
            if (closed) {
                return;
            }
            next = loop.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
        }

        void check() {
            if (closed) {
                return;
            }
            long id = ++checkId;
            inFlight = true;
            stats.healthCheckAttempt.increment();
            timeout = loop.schedule(() -> finish(id, false, "timed out"), config.timeout().toNanos(),
                    TimeUnit.NANOSECONDS);
            if (channel != null && channel.isActive()) {
                send(id);
                return;
            }
            ChannelFuture f = bootstrap.connect(host.address(), host.port());
            channel = f.channel();
            f.addListener(done -> {
                if (id != checkId || !inFlight) {
                    f.channel().close();
                    return;
                }
                if (!done.isSuccess()) {
                    finish(id, false, "connect failed: " + done.cause());
                    return;
                }
                f.channel().pipeline().addLast(new HttpClientCodec(4096, 16384, 16384), new ResponseHandler(this));
                send(id);
            });
        }

        void send(long id) {
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, config.path());
            req.headers().set(HttpHeaderNames.HOST, authority);
            req.headers().set(HttpHeaderNames.USER_AGENT, "meshproxy/HC");
            channel.writeAndFlush(req).addListener(w -> {
                if (!w.isSuccess()) {
                    finish(id, false, "write failed: " + w.cause());
                }
            });
        }

        /** Ends the check in flight (if {@code id} still is it) and schedules the next one. */
        void finish(long id, boolean success, String why) {
            if (id != checkId || !inFlight) {
                return;
            }
            inFlight = false;
            if (timeout != null) {
                timeout.cancel(false);
                timeout = null;
            }
            if (success) {
                stats.healthCheckSuccess.increment();
                failures = 0;
                successes++;
                if (host.failedActiveHealthCheck() && successes >= config.healthyThreshold()) {
                    host.failedActiveHealthCheck(false);
                    LOG.info("cluster '{}': host {} passed {} health checks, healthy", cluster, host, successes);
                }
            } else {
                stats.healthCheckFailure.increment();
                closeChannel();
                successes = 0;
                failures++;
                if (!host.failedActiveHealthCheck() && failures >= config.unhealthyThreshold()) {
                    host.failedActiveHealthCheck(true);
                    LOG.warn("cluster '{}': host {} failed {} health checks ({}), unhealthy", cluster, host, failures,
                            why);
                }
            }
            scheduleNext(config.interval().toNanos());
        }

        void closeChannel() {
            if (channel != null) {
                channel.close();
                channel = null;
            }
        }

        void stop() {
            inFlight = false;
            if (next != null) {
                next.cancel(false);
            }
            if (timeout != null) {
                timeout.cancel(false);
            }
            closeChannel();
        }
    }

    /** Reads one answer per check; bodies are discarded (and released by the superclass). */
    private static final class ResponseHandler extends SimpleChannelInboundHandler<HttpObject> {
        private final HostCheck check;
        private int status;
        private boolean keepAlive;

        ResponseHandler(HostCheck check) {
            this.check = check;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                status = r.status().code();
                keepAlive = HttpUtil.isKeepAlive(r);
            }
            if (msg instanceof LastHttpContent) {
                Channel ch = ctx.channel();
                if (!keepAlive && check.channel == ch) {
                    check.channel = null;
                    ch.close();
                }
                check.finish(check.checkId, status == 200, "status " + status);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (check.channel == ctx.channel()) {
                check.channel = null;
                check.finish(check.checkId, false, "connection closed");
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
