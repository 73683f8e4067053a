package io.meshproxy.core.internal.transport;

import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestLog;
import io.meshproxy.core.filter.RequestLogListener;
import java.util.List;

/** What a listener's connections share: its config, its filter chain, its log listeners, its drain state. */
public final class ListenerRuntime {
    private final ListenerConfig config;
    private final HttpService service;
    private final List<RequestLogListener> logListeners;
    private volatile boolean draining;

    public ListenerRuntime(ListenerConfig config, HttpService service, List<RequestLogListener> logListeners) {
        this.config = config;
        this.service = service;
        this.logListeners = List.copyOf(logListeners);
    }

    public ListenerConfig config() {
        return config;
    }

    public String name() {
        return config.name();
    }

    /** The filter chain ending in the router or the in-process handler. */
    public HttpService service() {
        return service;
    }

    public boolean draining() {
        return draining;
    }

    void draining(boolean d) {
        draining = d;
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
