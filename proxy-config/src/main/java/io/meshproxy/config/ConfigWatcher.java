package io.meshproxy.config;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hot reload: watches configuration files and directories and, on a change, loads them again. A valid change
 * with a new {@linkplain LoadedConfig#version() version} is handed to {@code apply} (typically
 * {@code MeshProxy.update}, which swaps it in atomically); an invalid one is logged with every error and the
 * configuration in force keeps serving. {@code apply} may refuse a configuration by throwing (a port that
 * cannot be bound): that is logged the same way.
 *
 * <p>Changes are picked up through the file system's notifications (inotify on Linux), then a short quiet
 * period lets a multi-file edit settle before the files are read. Write files atomically (write a temporary
 * file, then rename it over the old one, as Kubernetes does for ConfigMaps) so a half-written file is never
 * read; a half-written file read anyway is only a rejected change, corrected by the next event.
 *
 * <p>One daemon thread per watcher; {@link #close()} stops it.
 */
public final class ConfigWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);
    /** How long the files must be quiet after an event before they are read. */
    static final long QUIET_MILLIS = 10;
    /** The longest a stream of events can delay a reload. */
    static final long MAX_SETTLE_MILLIS = 200;

    private final List<Path> paths;
    private final FieldValidation fieldValidation;
    private final Consumer<LoadedConfig> apply;
    private final WatchService watchService;
    private final Thread thread;
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private volatile String appliedVersion;
    private volatile List<ConfigError> lastErrors = List.of();
    /** The warnings of the configuration in force, each logged once (only the watcher's thread writes it). */
    private volatile Set<ConfigError> warned;

    private ConfigWatcher(List<Path> paths, String appliedVersion, FieldValidation fieldValidation,
            Set<ConfigError> warned, Consumer<LoadedConfig> apply) throws IOException {
        this.paths = List.copyOf(paths);
        this.fieldValidation = Objects.requireNonNull(fieldValidation, "fieldValidation");
        this.warned = Set.copyOf(warned);
        this.apply = Objects.requireNonNull(apply, "apply");
        this.appliedVersion = appliedVersion;
        this.watchService = FileSystems.getDefault().newWatchService();
        register();
        this.thread = new Thread(this::run, "meshproxy-config-watcher");
        thread.setDaemon(true);
    }

    /**
     * Starts watching {@code paths}.
     *
     * @param appliedVersion the version already in force (changes that produce it again are not re-applied)
     * @param apply receives each valid, new configuration, on the watcher's thread
     */
    public static ConfigWatcher start(List<Path> paths, String appliedVersion, Consumer<LoadedConfig> apply)
            throws IOException {
        return start(paths, appliedVersion, FieldValidation.STRICT, List.of(), apply);
    }

    /**
     * Starts watching {@code paths}, reading them with {@code fieldValidation}. Each warning of a configuration
     * applied is logged once: those of {@code appliedWarnings} (the configuration in force, whose warnings the
     * caller has shown) and those a change keeps are not logged again.
     *
     * @param appliedVersion the version already in force (changes that produce it again are not re-applied)
     * @param appliedWarnings the warnings of that version
     * @param apply receives each valid, new configuration, on the watcher's thread
     */
    public static ConfigWatcher start(List<Path> paths, String appliedVersion, FieldValidation fieldValidation,
            List<ConfigError> appliedWarnings, Consumer<LoadedConfig> apply) throws IOException {
        ConfigWatcher w = new ConfigWatcher(paths, appliedVersion, fieldValidation, new HashSet<>(appliedWarnings),
                apply);
        w.thread.start();
        return w;
    }

    /** The version of the last configuration applied (or the one given at start). */
    public String appliedVersion() {
        return appliedVersion;
    }

    /** The errors of the last rejected change; empty once a valid change is applied. */
    public List<ConfigError> lastErrors() {
        return lastErrors;
    }

    /** Changes applied since start. */
    public long appliedCount() {
        return applied.get();
    }

    /** Changes rejected (invalid, or refused by {@code apply}) since start. */
    public long rejectedCount() {
        return rejected.get();
    }

    private void register() throws IOException {
        for (Path dir : ConfigLoader.watchedDirectories(paths)) {
            dir.register(watchService, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        }
    }

    private void run() {
        // A change made between the caller's load and the registration above would otherwise wait for the next
        // event; a reload of unchanged files is a no-op (same version).
        reload();
        try {
            while (true) {
                if (!drain(watchService.take())) {
                    continue;
                }
                // Let an edit of several files (or a truncate-then-write) settle, but not forever: a file
                // rewritten without pause is still read every MAX_SETTLE_MILLIS.
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_SETTLE_MILLIS);
                WatchKey more;
                while (System.nanoTime() < deadline
                        && (more = watchService.poll(QUIET_MILLIS, TimeUnit.MILLISECONDS)) != null) {
                    drain(more);
                }
                reload();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    /** Consumes a key's events; true when one of them can change the configuration. */
    private static boolean drain(WatchKey key) {
        boolean relevant = false;
        for (WatchEvent<?> e : key.pollEvents()) {
            relevant |= relevant(e);
        }
        key.reset();
        return relevant;
    }

    /**
     * Hidden entries are skipped by the loader, so their changes are not (an editor's swap file, the temporary
     * file of an atomic write) — except Kubernetes' {@code ..data} link, whose swap is a ConfigMap update.
     */
    static boolean relevant(WatchEvent<?> e) {
        if (!(e.context() instanceof Path p)) {
            return true; // OVERFLOW: events were lost, read everything
        }
        String name = p.getFileName().toString();
        return !name.startsWith(".") || name.equals("..data");
    }

    /** Loads the files now and applies them if they are valid and new. */
    void reload() {
        try {
            register(); // new subdirectories
        } catch (IOException e) {
            LOG.warn("cannot watch new configuration directories: {}", e.toString());
        }
        LoadedConfig next;
        try {
            next = ConfigLoader.load(paths, fieldValidation);
        } catch (ConfigFileException e) {
            lastErrors = e.errors();
            rejected.incrementAndGet();
            LOG.error("configuration change rejected, version {} keeps serving: {}", appliedVersion, e.getMessage());
            return;
        } catch (RuntimeException e) { // a loader bug must not end hot reload
            rejected.incrementAndGet();
            LOG.error("configuration change could not be read, version {} keeps serving", appliedVersion, e);
            return;
        }
        if (next.version().equals(appliedVersion)) {
            lastErrors = List.of();
            return;
        }
        try {
            apply.accept(next);
        } catch (RuntimeException e) {
            rejected.incrementAndGet();
            lastErrors = List.of();
            LOG.error("configuration {} could not be applied, version {} keeps serving: {}", next.version(),
                    appliedVersion, e.getMessage());
            return;
        }
        appliedVersion = next.version();
        lastErrors = List.of();
        applied.incrementAndGet();
        LOG.info("configuration {} applied from {}", next.version(), next.sources());
        Set<ConfigError> before = warned;
        for (ConfigError w : next.warnings()) {
            if (!before.contains(w)) {
                LOG.warn("{}", w);
            }
        }
        warned = Set.copyOf(next.warnings());
    }

    @Override
    public void close() {
        try {
            watchService.close();
        } catch (IOException e) {
            LOG.debug("closing the watch service: {}", e.toString());
        }
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
