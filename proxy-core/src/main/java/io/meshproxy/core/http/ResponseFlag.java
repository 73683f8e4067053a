package io.meshproxy.core.http;

/**
 * Why a request ended the way it did, in Envoy's vocabulary (the {@code %RESPONSE_FLAGS%} of its access
 * log), so operators read meshproxy's logs and metrics with the words they already know.
 */
public enum ResponseFlag {
    /** No route matched the request (404). */
    NR("no route"),
    /** No healthy upstream host in the cluster (503). */
    UH("no healthy upstream"),
    /** Upstream connection failure (503). */
    UF("upstream connect error or disconnect/reset before headers. reset reason: connection failure"),
    /** Upstream overflow: circuit-breaker or pool limit reached (503). */
    UO("upstream overflow"),
    /** Upstream connection terminated before a response (503). */
    UC("upstream connect error or disconnect/reset before headers. reset reason: connection termination"),
    /** Upstream stream reset by the peer before a response (503). */
    UR("upstream connect error or disconnect/reset before headers. reset reason: remote reset"),
    /** Upstream protocol error: the upstream's response could not be parsed (502). */
    UPE("upstream protocol error"),
    /** Upstream request timeout (504). */
    UT("upstream request timeout"),
    /** Retry limit exceeded (the last attempt's status). */
    URX("upstream retry limit exceeded"),
    /** Downstream connection terminated before the response finished. */
    DC("downstream connection termination"),
    /** Downstream protocol error: malformed request (400), headers too large (431). */
    DPE("downstream protocol error"),
    /** Connection local reset: meshproxy reset the stream itself (a downstream body error mid-stream). */
    LR("local reset"),
    /** Stream idle timeout: no bytes moved either way for the listener's stream idle timeout (408, or a reset). */
    SI("stream idle timeout"),
    /** The request was delayed by fault injection. */
    DI("delayed by fault injection"),
    /** The request was aborted by fault injection (the configured status). */
    FI("fault filter abort"),
    /** Over the local rate limit (429). */
    RL("local_rate_limited"),
    /**
     * meshproxy's own: the cluster's failure-rate breaker (Resilience4j) is open or has no half-open probe
     * left (503). Envoy has no such breaker, hence no flag; UO stays reserved for threshold overflow.
     */
    UCB("upstream circuit breaker open");

    private final String details;

    ResponseFlag(String details) {
        this.details = details;
    }

    /** Envoy's text for the local reply body. */
    public String details() {
        return details;
    }
}
