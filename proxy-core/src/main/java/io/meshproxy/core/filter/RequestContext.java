package io.meshproxy.core.filter;

import io.meshproxy.core.http.ResponseFlag;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What the mesh knows about one request besides the request itself: where it came from, the event loop it
 * runs on, and what happened to it (route, upstream host, response flags) for logs and metrics.
 * Belongs to the request's event loop; not thread-safe.
 */
public final class RequestContext {
    private final String listenerName;
    private final String protocol;
    private final InetSocketAddress remoteAddress;
    private final InetSocketAddress localAddress;
    private final ScheduledExecutorService eventLoop;
    private final long startNanos;
    private final boolean secure;
    private String requestId;
    private String routeName;
    private String upstreamCluster;
    private String upstreamHost;
    private int flags;
    private String details;
    private Map<String, Object> attributes;
    private Runnable cancelCallback;
    private java.util.List<Runnable> moreCancelCallbacks;
    private boolean cancelled;
    private java.time.Duration streamIdleTimeout = java.time.Duration.ZERO;
    private RequestEventListener events = RequestEventListener.NONE;
    private String peerPrincipal;
    private String upstreamPeerPrincipal;
    private Object eventState;

    /**
     * @param listenerName the listener that accepted the request ("in-process" for the client)
     * @param protocol HTTP/1.1, HTTP/2 or in-process
     * @param remoteAddress the downstream peer; null in-process
     * @param localAddress the listener's address; null in-process
     * @param eventLoop the request's event loop: callbacks and timers of this request run there
     */
    public RequestContext(String listenerName, String protocol, InetSocketAddress remoteAddress,
            InetSocketAddress localAddress, boolean secure, ScheduledExecutorService eventLoop, long startNanos) {
        this.listenerName = listenerName;
        this.protocol = protocol;
        this.remoteAddress = remoteAddress;
        this.localAddress = localAddress;
        this.secure = secure;
        this.eventLoop = eventLoop;
        this.startNanos = startNanos;
    }

    public String listenerName() {
        return listenerName;
    }

    public String protocol() {
        return protocol;
    }

    public InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** Whether the downstream connection is TLS. */
    public boolean secure() {
        return secure;
    }

    /** The event loop of this request; schedule timers here, never block it. */
    public ScheduledExecutorService eventLoop() {
        return eventLoop;
    }

    /** {@link System#nanoTime()} when the request headers arrived. */
    public long startNanos() {
        return startNanos;
    }

    /** The {@code x-request-id}, once the request-id filter has run. */
    public String requestId() {
        return requestId;
    }

    public void requestId(String requestId) {
        this.requestId = requestId;
    }

    public String routeName() {
        return routeName;
    }

    public void routeName(String routeName) {
        this.routeName = routeName;
    }

    public String upstreamCluster() {
        return upstreamCluster;
    }

    public void upstreamCluster(String upstreamCluster) {
        this.upstreamCluster = upstreamCluster;
    }

    /** host:port of the upstream endpoint of the last attempt. */
    public String upstreamHost() {
        return upstreamHost;
    }

    public void upstreamHost(String upstreamHost) {
        this.upstreamHost = upstreamHost;
    }

    public void addResponseFlag(ResponseFlag flag) {
        flags |= 1 << flag.ordinal();
    }

    public boolean hasResponseFlag(ResponseFlag flag) {
        return (flags & (1 << flag.ordinal())) != 0;
    }

    /** The flags as Envoy prints them: comma-separated, or "-" when none. */
    public String responseFlags() {
        if (flags == 0) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        for (ResponseFlag f : ResponseFlag.values()) {
            if (hasResponseFlag(f)) {
                if (sb.length() > 0) {
                    sb.append(',');
                }
                sb.append(f.name());
            }
        }
        return sb.toString();
    }

    /** Envoy-style response code details ("via_upstream", "route_not_found", ...). */
    public String responseCodeDetails() {
        return details;
    }

    public void responseCodeDetails(String details) {
        this.details = details;
    }

    /**
     * The listener's stream idle timeout: an upstream exchange with no bytes moving either way for this long
     * ends with flag SI. Zero (the default) for none.
     */
    public java.time.Duration streamIdleTimeout() {
        return streamIdleTimeout;
    }

    public void streamIdleTimeout(java.time.Duration timeout) {
        this.streamIdleTimeout = java.util.Objects.requireNonNull(timeout, "timeout");
    }

    /**
     * The downstream peer's principal from its mTLS certificate (Istio's form:
     * {@code cluster.local/ns/NS/sa/SA}); null for plaintext or a peer without a SPIFFE identity.
     */
    public String peerPrincipal() {
        return peerPrincipal;
    }

    public void peerPrincipal(String principal) {
        this.peerPrincipal = principal;
    }

    /**
     * The principal of the upstream that the latest attempt went to, from its TLS certificate (Istio's form,
     * {@code cluster.local/ns/NS/sa/SA}); null for a plaintext upstream, before any attempt, or when the
     * upstream's certificate carries no SPIFFE identity.
     */
    public String upstreamPeerPrincipal() {
        return upstreamPeerPrincipal;
    }

    public void upstreamPeerPrincipal(String principal) {
        this.upstreamPeerPrincipal = principal;
    }

    /** The request event listener of this request's listener ({@link RequestEventListener#NONE} when none). */
    public RequestEventListener events() {
        return events;
    }

    public void events(RequestEventListener events) {
        this.events = java.util.Objects.requireNonNull(events, "events");
    }

    /** The event listener's own per-request state (one slot, so none needs a map); null until it sets one. */
    @SuppressWarnings("unchecked")
    public <T> T eventState() {
        return (T) eventState;
    }

    public void eventState(Object state) {
        this.eventState = state;
    }

    /** Whether the downstream went away (or the request was otherwise abandoned) before it finished. */
    public boolean isCancelled() {
        return cancelled;
    }

    /**
     * Runs {@code callback} on the event loop if the request is abandoned before it finishes (downstream
     * disconnect, reset): whoever holds upstream resources for it releases them here. Runs at once if the
     * request is already cancelled.
     */
    public void onCancel(Runnable callback) {
        if (cancelled) {
            callback.run();
            return;
        }
        if (cancelCallback == null) {
            cancelCallback = callback; // the common case, one upstream attempt: no list
            return;
        }
        if (moreCancelCallbacks == null) {
            moreCancelCallbacks = new java.util.ArrayList<>(2);
        }
        moreCancelCallbacks.add(callback);
    }

    /** Abandons the request: runs the cancel callbacks once. Called by the listener or client. */
    public void cancel() {
        if (cancelled) {
            return;
        }
        cancelled = true;
        Runnable first = cancelCallback;
        cancelCallback = null;
        if (first != null) {
            first.run();
        }
        if (moreCancelCallbacks != null) {
            for (Runnable r : moreCancelCallbacks) {
                r.run();
            }
            moreCancelCallbacks = null;
        }
    }

    @SuppressWarnings("unchecked")
    public <T> T attribute(String key) {
        return attributes == null ? null : (T) attributes.get(key);
    }

    public void attribute(String key, Object value) {
        if (attributes == null) {
            attributes = new HashMap<>(4);
        }
        attributes.put(key, value);
    }
}
