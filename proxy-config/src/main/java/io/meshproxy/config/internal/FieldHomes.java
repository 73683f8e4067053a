package io.meshproxy.config.internal;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a field belongs, for fields that belong in exactly one place: an unknown field that is known elsewhere
 * is reported with its home ("'interval' ... (it belongs in 'outlierDetection')"), the commonest mistake in
 * hand-written DestinationRules being a setting under the wrong parent.
 */
final class FieldHomes {
    private static final Map<String, String> HOMES = new HashMap<>();
    private static final Set<String> AMBIGUOUS = new HashSet<>();

    static {
        put("outlierDetection", "splitExternalLocalOriginErrors", "consecutiveLocalOriginFailures",
                "consecutiveGatewayErrors", "consecutive5xxErrors", "consecutiveErrors", "interval",
                "baseEjectionTime", "maxEjectionPercent", "minHealthPercent");
        put("connectionPool.tcp", "maxConnections", "connectTimeout", "tcpKeepalive", "maxConnectionDuration");
        put("connectionPool.http", "http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries",
                "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams");
        put("connectionPool", "tcp", "http");
        put("loadBalancer", "simple", "consistentHash", "localityLbSetting", "warmupDurationSecs");
        put("trafficPolicy", "loadBalancer", "connectionPool", "outlierDetection", "portLevelSettings");
        put("retries", "attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities");
        put("match", "uri", "queryParams", "withoutHeaders", "ignoreUriCase", "sourceLabels", "sourceNamespace");
        put("destination", "subset");
        put("fault", "delay", "abort");
        put("delay", "fixedDelay", "exponentialDelay");
        put("abort", "httpStatus", "grpcStatus", "http2Error");
        put("tcpKeepalive", "probes");
        put("circuitBreaker", "failureRateThreshold", "slowCallRateThreshold", "slowCallDuration", "slidingWindowSize",
                "minimumNumberOfCalls", "waitInOpenState", "permittedCallsInHalfOpenState");
        put("healthCheck", "healthyThreshold", "unhealthyThreshold");
        put("retryBudget", "budgetPercent", "minRetryConcurrency");
        put("localRateLimit", "maxTokens", "tokensPerFill", "fillInterval");
        put("rewrite", "uriRegexRewrite");
        put("redirect", "redirectCode", "derivePort");
    }

    private FieldHomes() {}

    private static void put(String home, String... fields) {
        for (String f : List.of(fields)) {
            if (AMBIGUOUS.contains(f)) {
                continue;
            }
            String before = HOMES.putIfAbsent(f, home);
            if (before != null && !before.equals(home)) {
                HOMES.remove(f);
                AMBIGUOUS.add(f);
            }
        }
    }

    /** The one place {@code field} belongs, or null. */
    static String home(String field) {
        return HOMES.get(field);
    }
}
