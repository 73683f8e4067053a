package io.meshproxy.core.internal.transport;

import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.filter.RequestLogListener;
import java.util.List;

/**
 * What a listener's connections share: its config, its filter chain, its log listeners, its drain state.
 * A configuration update swaps config and chain together, atomically; a request reads them once, when it
 * starts, and keeps what it read.
 */
public final class ListenerRuntime {
    /** The config and the chain compiled from it, swapped as one. */
    private record Snapshot(ListenerConfig config, HttpService service) {}

    private volatile Snapshot snapshot;
    private final List<RequestLogListener> logListeners;
    private volatile boolean draining;

    public ListenerRuntime(ListenerConfig config, HttpService service, List<RequestLogListener> logListeners) {
        this.snapshot = new Snapshot(config, service);
        this.logListeners = List.copyOf(logListeners);
    }

    public ListenerConfig config() {
        return snapshot.config();
    }

    public String name() {
        return snapshot.config().name();
    }

    /** The filter chain ending in the router or the in-process handler. */
    public HttpService service() {
        return snapshot.service();
    }

    /** Swaps in a new configuration of this listener (same name, address and port) and its chain. */
    public void update(ListenerConfig config, HttpService service) {
        this.snapshot = new Snapshot(config, service);
    }

    public boolean draining() {
        return draining;
    }

    void draining(boolean d) {
        draining = d;
    }

    /** Whether anyone listens; when not, the data path builds no {@link RequestLog} at all. */
    public boolean logging() {
        return !logListeners.isEmpty();
    }

    public void log(RequestLog log) {
        for (int i = 0; i < logListeners.size(); i++) {
            try {
                logListeners.get(i).onRequestComplete(log);
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(ListenerRuntime.class).warn("request log listener failed", e);
            }
        }
    }
}
