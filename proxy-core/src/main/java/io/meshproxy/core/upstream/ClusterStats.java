package io.meshproxy.core.upstream;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy's cluster statistics under Envoy's names ({@code cluster.<name>.<stat>}), counted from every event
 * loop without a lock. {@code /clusters} prints them; the telemetry module exports them.
 */
public final class ClusterStats {
    /** Requests sent upstream (every attempt). */
    public final LongAdder upstreamRqTotal = new LongAdder();
    /** Requests failed at once because {@code maxPendingRequests} was reached (UO). */
    public final LongAdder upstreamRqPendingOverflow = new LongAdder();
    /** Requests failed at once because {@code maxRequests} was reached (UO). */
    public final LongAdder upstreamRqOverflow = new LongAdder();
    /** Connections not opened because {@code maxConnections} was reached. */
    public final LongAdder upstreamCxOverflow = new LongAdder();
    /** Retries sent. */
    public final LongAdder upstreamRqRetry = new LongAdder();
    /** Retries whose answer was not retriable again. */
    public final LongAdder upstreamRqRetrySuccess = new LongAdder();
    /** Retries not sent because {@code maxRetries} or the retry budget was reached. */
    public final LongAdder upstreamRqRetryOverflow = new LongAdder();
    /** Requests that used all their retries and still failed (URX). */
    public final LongAdder upstreamRqRetryLimitExceeded = new LongAdder();
    /** Retries not possible because the request body was too large to keep for replay. */
    public final LongAdder retryOrShadowAbandoned = new LongAdder();
    /** Requests that hit the route timeout (504 UT). */
    public final LongAdder upstreamRqTimeout = new LongAdder();
    /** Attempts that hit the per-try timeout. */
    public final LongAdder upstreamRqPerTryTimeout = new LongAdder();
    /** Requests failed at once by the open failure-rate breaker (UCB). */
    public final LongAdder upstreamRqBreakerOpen = new LongAdder();
    /** Connections opened. */
    public final LongAdder upstreamCxTotal = new LongAdder();
    /** Connections that could not be established. */
    public final LongAdder upstreamCxConnectFail = new LongAdder();
    /** Hosts ejected by outlier detection (Envoy's {@code outlier_detection.ejections_enforced_total}). */
    public final LongAdder ejectionsEnforcedTotal = new LongAdder();
    /** Hosts ejected right now (a gauge: up on ejection, down when the ejection ends). */
    public final LongAdder ejectionsActive = new LongAdder();
    /** Ejections not made because {@code maxEjectionPercent} was reached. */
    public final LongAdder ejectionsOverflow = new LongAdder();
    /** Ejections by the consecutive-5xx detector. */
    public final LongAdder ejectionsEnforcedConsecutive5xx = new LongAdder();
    /** Ejections by the consecutive-gateway-failure detector. */
    public final LongAdder ejectionsEnforcedConsecutiveGatewayFailure = new LongAdder();
    /** Ejections by the consecutive-local-origin-failure detector (split mode only). */
    public final LongAdder ejectionsEnforcedConsecutiveLocalOriginFailure = new LongAdder();
    /** Picks made in panic mode, health ignored (Envoy's {@code lb_healthy_panic}). */
    public final LongAdder lbHealthyPanic = new LongAdder();
    /** Active health checks sent (Envoy's {@code health_check.attempt}). */
    public final LongAdder healthCheckAttempt = new LongAdder();
    /** Active health checks answered 200 in time. */
    public final LongAdder healthCheckSuccess = new LongAdder();
    /** Active health checks that failed (other status, timeout, connect failure, reset). */
    public final LongAdder healthCheckFailure = new LongAdder();
    /** Upstream TLS handshakes completed, full or resumed (Envoy's {@code ssl.handshake}). */
    public final LongAdder sslHandshake = new LongAdder();
    /** Of those, handshakes that resumed an earlier session (Envoy's {@code ssl.session_reused}). */
    public final LongAdder sslSessionReused = new LongAdder();
    /** Upstream TLS handshakes that failed: the connection counts as {@code upstream_cx_connect_fail} too
     *  (Envoy's {@code ssl.connection_error}). */
    public final LongAdder sslConnectionError = new LongAdder();

    /** Every counter by its Envoy name, for the admin API and exporters. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("upstream_rq_total", upstreamRqTotal.sum());
        m.put("upstream_rq_pending_overflow", upstreamRqPendingOverflow.sum());
        m.put("upstream_rq_overflow", upstreamRqOverflow.sum());
        m.put("upstream_cx_overflow", upstreamCxOverflow.sum());
        m.put("upstream_rq_retry", upstreamRqRetry.sum());
        m.put("upstream_rq_retry_success", upstreamRqRetrySuccess.sum());
        m.put("upstream_rq_retry_overflow", upstreamRqRetryOverflow.sum());
        m.put("upstream_rq_retry_limit_exceeded", upstreamRqRetryLimitExceeded.sum());
        m.put("retry_or_shadow_abandoned", retryOrShadowAbandoned.sum());
        m.put("upstream_rq_timeout", upstreamRqTimeout.sum());
        m.put("upstream_rq_per_try_timeout", upstreamRqPerTryTimeout.sum());
        m.put("upstream_rq_breaker_open", upstreamRqBreakerOpen.sum());
        m.put("upstream_cx_total", upstreamCxTotal.sum());
        m.put("upstream_cx_connect_fail", upstreamCxConnectFail.sum());
        m.put("outlier_detection.ejections_enforced_total", ejectionsEnforcedTotal.sum());
        m.put("outlier_detection.ejections_active", ejectionsActive.sum());
        m.put("outlier_detection.ejections_overflow", ejectionsOverflow.sum());
        m.put("outlier_detection.ejections_enforced_consecutive_5xx", ejectionsEnforcedConsecutive5xx.sum());
        m.put("outlier_detection.ejections_enforced_consecutive_gateway_failure",
                ejectionsEnforcedConsecutiveGatewayFailure.sum());
        m.put("outlier_detection.ejections_enforced_consecutive_local_origin_failure",
                ejectionsEnforcedConsecutiveLocalOriginFailure.sum());
        m.put("lb_healthy_panic", lbHealthyPanic.sum());
        m.put("health_check.attempt", healthCheckAttempt.sum());
        m.put("health_check.success", healthCheckSuccess.sum());
        m.put("health_check.failure", healthCheckFailure.sum());
        m.put("ssl.handshake", sslHandshake.sum());
        m.put("ssl.session_reused", sslSessionReused.sum());
        m.put("ssl.connection_error", sslConnectionError.sum());
        return m;
    }
}
