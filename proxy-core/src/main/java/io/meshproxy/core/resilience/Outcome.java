package io.meshproxy.core.resilience;

/**
 * What one attempt to an upstream endpoint came to, as the {@link ResponseClassifier} sees it. Retries,
 * outlier detection, the failure-rate breaker and metrics all read this one value, so they agree on what a
 * failure is.
 */
public enum Outcome {
    /** The upstream answered with a status that is not a 5xx (2xx, 3xx and 4xx are the caller's business). */
    SUCCESS(false, false),
    /** The upstream answered 500, 501 or 505..599 (or a gRPC status that maps to one). */
    ERROR_5XX(true, false),
    /** The upstream answered 502, 503 or 504 (or gRPC UNAVAILABLE / DEADLINE_EXCEEDED). */
    GATEWAY_ERROR(true, false),
    /** Local origin: no connection could be made (refused, unreachable, connect timeout). Flag UF. */
    CONNECT_FAILURE(true, true),
    /** Local origin: the connection or stream closed or was reset before the response head. Flags UC, UR. */
    RESET(true, true),
    /** Local origin: the upstream refused the HTTP/2 stream (REFUSED_STREAM) without processing it. */
    REFUSED_STREAM(true, true),
    /** Local origin: the attempt's timeout expired before the response head. Flag UT. */
    TIMEOUT(true, true);

    private final boolean failure;
    private final boolean localOrigin;

    Outcome(boolean failure, boolean localOrigin) {
        this.failure = failure;
        this.localOrigin = localOrigin;
    }

    /** Whether this counts as a failure (for the breaker, outlier detection and error metrics). */
    public boolean isFailure() {
        return failure;
    }

    /** Whether meshproxy itself observed the failure (no answer came) rather than the upstream answering. */
    public boolean isLocalOrigin() {
        return localOrigin;
    }

    /** A 502/503/504 answer, or (the way Envoy's gateway-failure detector counts) any local-origin failure. */
    public boolean isGatewayFailure() {
        return this == GATEWAY_ERROR || localOrigin;
    }
}
