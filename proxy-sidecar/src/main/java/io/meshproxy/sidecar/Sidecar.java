package io.meshproxy.sidecar;

import io.meshproxy.config.ConfigFileException;
import io.meshproxy.config.ConfigLoader;
import io.meshproxy.config.ConfigWatcher;
import io.meshproxy.config.FieldValidation;
import io.meshproxy.config.ListenerRole;
import io.meshproxy.config.LoadedConfig;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.telemetry.Telemetry;
import io.meshproxy.telemetry.TelemetryConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's run wiring, {@code meshproxy run -c FILE_OR_DIR...} without the command line: load the files,
 * start the proxy on them, watch them and swap in every valid change ({@link MeshProxy#update}); on
 * {@link #close()} stop watching, drain (listeners stop accepting, requests in flight finish), stop.
 *
 * <p>Telemetry ({@link Telemetry}: Istio's metrics at the admin API's {@code /stats/prometheus}, tracing,
 * access logs) is built from {@link LoadedConfig#telemetry()} at start and fixed for the life of the process:
 * the proxy's event listener is part of what {@link MeshProxy.Builder} builds. A reload that changes
 * {@code spec.workload}, {@code spec.telemetry} or the Telemetry resources that apply is swapped in for routing
 * and logged as needing a restart for telemetry.
 *
 * <p>The command line registers {@link #close()} as a shutdown hook, so SIGTERM and SIGINT drain gracefully.
 * Tests drive this class in-process: it is the code path of the jar.
 */
public final class Sidecar implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Sidecar.class);

    private final MeshProxy mesh;
    private final Telemetry telemetry;
    /** The workload's mTLS (its ticket-key rotation), or a no-op without {@code spec.identity}. */
    private final AutoCloseable tls;
    /** AuthorizationPolicies and RequestAuthentications on the INBOUND listeners; swapped on reload. */
    private final InboundAuthorization authorization;
    private final ConfigWatcher watcher;
    private final List<AutoCloseable> closeAfter;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean closing;

    private Sidecar(Started started, ConfigWatcher watcher, List<AutoCloseable> closeAfter) {
        this.mesh = started.mesh();
        this.telemetry = started.telemetry();
        this.tls = started.tls();
        this.authorization = started.authorization();
        this.watcher = watcher;
        this.closeAfter = List.copyOf(closeAfter);
    }

    /** A running proxy and the telemetry it reports to. */
    private record Started(MeshProxy mesh, Telemetry telemetry, AutoCloseable tls,
            io.meshproxy.tls.MeshTransportSecurity security, InboundAuthorization authorization) {
        void close() {
            mesh.close();
            telemetry.close();
            closeQuietly(tls);
            authorization.close();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {}: {}", c, e.toString());
        }
    }

    /**
     * The workload's mTLS from {@code spec.identity} (BoringSSL, its SPIFFE certificate, session tickets whose keys
     * rotate on a daemon thread), or null without one. A broken identity fails the start with the file and reason.
     * The identity files are watched on the same daemon thread ({@link io.meshproxy.tls.IdentityWatcher}, every
     * second): a valid new certificate is used by the next handshakes, without a restart; a broken one is logged
     * (ERROR, the file and why) and the current certificate keeps serving; a WARN comes when the serving
     * certificate has less than a fifth of its lifetime left. The files of SIMPLE and MUTUAL DestinationRules are
     * read now, not on the first request.
     */
    private static io.meshproxy.tls.MeshTransportSecurity transportSecurity(LoadedConfig loaded,
            java.util.List<AutoCloseable> cleanup) {
        io.meshproxy.config.IdentityFiles files = loaded.identity();
        if (files == null) {
            return null;
        }
        io.meshproxy.tls.IdentityWatcher watcher;
        try {
            watcher = io.meshproxy.tls.IdentityWatcher.builder(files.certificateChain(), files.privateKey(),
                    files.trustBundle(), files.trustDomain()).build();
        } catch (Exception e) {
            throw new IllegalStateException("spec.identity: " + e.getMessage(), e);
        }
        io.meshproxy.tls.WorkloadIdentity identity = watcher.current();
        java.util.concurrent.ScheduledExecutorService tlsThread =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "meshproxy-tls");
                    t.setDaemon(true);
                    return t;
                });
        io.meshproxy.tls.MeshTransportSecurity security = new io.meshproxy.tls.MeshTransportSecurity(identity,
                io.meshproxy.tls.TlsOptions.defaults()).start(tlsThread).watch(watcher, tlsThread);
        cleanup.add(() -> {
            security.close();
            tlsThread.shutdownNow();
        });
        LOG.info("mTLS identity {} (trust domain {}), certificate serial {} valid until {}, provider {}; watching {}, "
                + "{} and {} for rotation", identity.spiffeId(), files.trustDomain(),
                identity.leaf().getSerialNumber().toString(16), identity.notAfter(),
                io.meshproxy.tls.TlsContexts.availableProvider(), files.certificateChain(), files.privateKey(),
                files.trustBundle());
        if (loaded.config().clusters() != null) {
            security.prepare(loaded.config().clusters());
        }
        return security;
    }

    /** Event loop threads by default: one per available core, as Envoy's {@code --concurrency}. */
    public static int defaultConcurrency() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** Loads {@code paths} (files and directories), starts the proxy on them and watches them for changes. */
    public static Sidecar start(List<Path> paths) throws ConfigFileException, IOException {
        return start(paths, defaultConcurrency());
    }

    /**
     * Loads {@code paths} (files and directories), starts the proxy on them with {@code concurrency} event loop
     * threads and watches them: every valid change with a new version is swapped in; an invalid one is logged
     * with its errors and the running configuration keeps serving.
     *
     * @throws ConfigFileException the files are not valid (nothing was started)
     * @throws IOException the files cannot be watched (nothing keeps running)
     * @throws IllegalStateException a listener or the admin server cannot bind (nothing keeps running)
     */
    public static Sidecar start(List<Path> paths, int concurrency) throws ConfigFileException, IOException {
        return start(paths, concurrency, FieldValidation.STRICT);
    }

    /**
     * As {@link #start(List, int)}, reading the files (at start and on every change) with {@code fieldValidation};
     * each warning is logged once.
     */
    public static Sidecar start(List<Path> paths, int concurrency, FieldValidation fieldValidation)
            throws ConfigFileException, IOException {
        LoadedConfig loaded = ConfigLoader.load(paths, fieldValidation);
        loaded.warnings().forEach(w -> LOG.warn("{}", w));
        Started started = startMesh(loaded, concurrency);
        MeshProxy mesh = started.mesh();
        InboundAuthorization authorization = started.authorization();
        TelemetryConfig running = started.telemetry().config();
        ConfigWatcher watcher;
        try {
            watcher = ConfigWatcher.start(paths, loaded.version(), fieldValidation, loaded.warnings(), next -> {
                // Everything that can refuse the new configuration runs before anything of it is in force: the
                // authorization checks are built, the upstream TLS files read (off the event loops), the routes
                // swapped, and only then the checks installed; a failure leaves the previous configuration whole.
                InboundAuthorization.Prepared checks = authorization.prepare(next);
                try {
                    if (started.security() != null) {
                        started.security().prepare(next.config().clusters());
                    }
                    mesh.update(next.config(), next.version());
                } catch (RuntimeException e) {
                    authorization.discard(checks);
                    throw e;
                }
                authorization.install(checks);
                logListeners(mesh, next);
                if (!next.telemetry().equals(running)) {
                    LOG.warn("configuration {} changes telemetry settings (spec.workload, spec.telemetry, Telemetry"
                            + " resources or listener directions): they apply at the next restart; the rest of it is"
                            + " in force, and telemetry keeps the settings of {}", next.version(), loaded.version());
                }
            });
        } catch (IOException | RuntimeException e) {
            started.close();
            throw e;
        }
        LOG.info("watching {} for configuration changes", paths);
        return new Sidecar(started, watcher, List.of());
    }

    /**
     * Starts the proxy on a configuration already loaded (the embedded demo), not watched. {@code closeAfter}
     * (the demo's services) is closed once the proxy has drained and stopped.
     */
    static Sidecar startLoaded(LoadedConfig loaded, int concurrency, List<AutoCloseable> closeAfter) {
        return new Sidecar(startMesh(loaded, concurrency), null, closeAfter);
    }

    /**
     * Telemetry first (its event listener and admin endpoints are part of the proxy built next), then the proxy;
     * the Envoy-style cluster statistics are bound once the proxy has its clusters.
     */
    private static Started startMesh(LoadedConfig loaded, int concurrency) {
        LOG.debug("starting the proxy with {} event loop threads", concurrency);
        Telemetry telemetry = Telemetry.create(loaded.telemetry(), null);
        java.util.List<AutoCloseable> tlsCleanup = new java.util.ArrayList<>(1);
        AutoCloseable tls = () -> tlsCleanup.forEach(Sidecar::closeQuietly);
        InboundAuthorization authorization = new InboundAuthorization();
        MeshProxy mesh;
        io.meshproxy.tls.MeshTransportSecurity security;
        try {
            // The files' version from the first request on: /config_dump never shows "0".
            MeshProxy.Builder b = MeshProxy.builder().config(loaded.config()).version(loaded.version())
                    .eventLoopThreads(concurrency).eventListener(telemetry.listener());
            security = transportSecurity(loaded, tlsCleanup);
            if (security != null) {
                b.transportSecurity(security);
                b.adminEndpoint("/certs", security.certsEndpoint());
            }
            telemetry.adminEndpoints().forEach(b::adminEndpoint);
            b.filter(authorization.update(loaded));
            mesh = b.build().start();
        } catch (RuntimeException e) {
            telemetry.close();
            closeQuietly(tls);
            authorization.close();
            throw e;
        }
        authorization.bindStats(telemetry);
        telemetry.bindClusters(mesh::clusters);
        LOG.info("configuration {} loaded from {}", loaded.version(), loaded.sources());
        logListeners(mesh, loaded);
        LOG.info("{}", describe(telemetry.config()));
        return new Started(mesh, telemetry, tls, security, authorization);
    }

    /**
     * {@code telemetry: workload NAME.NAMESPACE (app APP, version VERSION); metrics on|off; tracing P% to URL|off;
     * access logs P% to PATH|off}.
     */
    static String describe(TelemetryConfig t) {
        var w = t.workload();
        StringBuilder b = new StringBuilder("telemetry: workload ").append(w.name()).append('.').append(w.namespace())
                .append(" (app ").append(w.app()).append(", version ").append(w.version()).append("); metrics ");
        b.append(t.metrics().enabled() ? "on (at most " + t.metrics().maxSeries() + " series)" : "off");
        b.append("; tracing ");
        b.append(t.tracing().enabled() ? percent(t.tracing().samplingPercent()) + " to " + t.tracing().zipkinEndpoint()
                : "off");
        b.append("; access logs ");
        b.append(t.accessLog().enabled() ? percent(t.accessLog().samplingPercent()) + " to " + t.accessLog().path()
                : "off");
        return b.toString();
    }

    private static String percent(double p) {
        return (p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p)) + "%";
    }

    private static void logListeners(MeshProxy mesh, LoadedConfig loaded) {
        ProxyConfig config = mesh.config();
        for (ListenerConfig l : config.listeners()) {
            LOG.info("{}", describe(mesh, l, loaded.listener(l.name())));
        }
        AdminConfig admin = config.admin();
        if (admin != null) {
            LOG.info("admin {}:{}", admin.address(), mesh.adminPort());
        }
    }

    /** {@code listener NAME DIRECTION ADDRESS:PORT [-> FORWARD_TO]}, with the port actually bound. */
    static String describe(MeshProxy mesh, ListenerConfig l, ListenerRole role) {
        InetSocketAddress bound = mesh.listenerAddress(l.name());
        StringBuilder b = new StringBuilder("listener ").append(l.name()).append(' ')
                .append(role == null ? "HANDLER" : role.direction()).append(' ').append(l.address()).append(':')
                .append(bound.getPort());
        if (role != null && role.forwardTo() != null) {
            b.append(" -> ").append(role.forwardTo());
        }
        return b.toString();
    }

    /** The running proxy. */
    public MeshProxy mesh() {
        return mesh;
    }

    /** The proxy's telemetry, as configured at start. */
    public Telemetry telemetry() {
        return telemetry;
    }

    /** The watcher of the configuration files; null for a configuration not read from files (the demo). */
    public ConfigWatcher watcher() {
        return watcher;
    }

    /** Calls {@link #close()} when the JVM shuts down: SIGTERM and SIGINT drain gracefully. */
    public Sidecar closeOnShutdown() {
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "meshproxy-shutdown"));
        return this;
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /**
     * Stops watching the files, drains (listeners stop accepting new connections; HTTP/2 connections get
     * GOAWAY, HTTP/1.1 ones {@code Connection: close}; requests in flight finish, up to the listeners' drain
     * timeout), then stops everything. Idempotent; a second caller waits for the first.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                awaitStoppedUninterruptibly();
                return;
            }
            closing = true;
        }
        try {
            if (watcher != null) {
                watcher.close();
            }
            Duration timeout = longestDrainTimeout(mesh.config());
            LOG.info("draining: listeners refuse new connections, requests in flight finish (up to {} ms)",
                    timeout.toMillis());
            long t0 = System.nanoTime();
            try {
                mesh.drain().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
                LOG.info("drained in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            } catch (TimeoutException e) {
                LOG.warn("drain did not finish in {} ms; closing the connections still open", timeout.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                LOG.warn("drain failed: {}", e.toString());
            }
            mesh.close();
            // After the proxy: the last requests' events are in; the exporters flush what they hold.
            telemetry.close();
            closeQuietly(tls);
            authorization.close();
            List<AutoCloseable> after = new ArrayList<>(closeAfter);
            for (AutoCloseable c : after) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.warn("closing {}: {}", c, e.toString());
                }
            }
            LOG.info("stopped");
        } finally {
            stopped.countDown();
        }
    }

    private void awaitStoppedUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                stopped.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static Duration longestDrainTimeout(ProxyConfig config) {
        Duration longest = Duration.ZERO;
        for (ListenerConfig l : config.listeners()) {
            if (l.drainTimeout().compareTo(longest) > 0) {
                longest = l.drainTimeout();
            }
        }
        return Objects.requireNonNull(longest);
    }
}
