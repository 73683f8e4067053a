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
    private final io.meshproxy.core.filter.RequestEventListener events;
    private volatile boolean draining;

    public ListenerRuntime(ListenerConfig config, HttpService service, List<RequestLogListener> logListeners) {
        this(config, service, logListeners, io.meshproxy.core.filter.RequestEventListener.NONE);
    }

    public ListenerRuntime(ListenerConfig config, HttpService service, List<RequestLogListener> logListeners,
            io.meshproxy.core.filter.RequestEventListener events) {
        this.snapshot = new Snapshot(config, service);
        this.logListeners = List.copyOf(logListeners);
        this.events = events;
    }

    /** The request event listener of this listener's requests ({@code NONE} when there is none). */
    public io.meshproxy.core.filter.RequestEventListener events() {
        return events;
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
        return !logListeners.isEmpty() || events != io.meshproxy.core.filter.RequestEventListener.NONE;
    }

    /** The exchange of {@code ctx} ended: the event listener and the log listeners are told. */
    public void end(io.meshproxy.core.filter.RequestContext ctx, RequestLog log) {
        if (events != io.meshproxy.core.filter.RequestEventListener.NONE) {
            try {
                events.onRequestEnd(ctx, log);
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(ListenerRuntime.class).warn("request event listener failed", e);
            }
        }
        log(log);
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
