package io.meshproxy.config.internal;

import io.meshproxy.config.internal.Obj.Int;
import io.meshproxy.config.internal.Obj.Str;
import io.meshproxy.core.config.DirectResponseAction;
import io.meshproxy.core.config.FailureRateBreaker;
import io.meshproxy.core.config.FaultPolicy;
import io.meshproxy.core.config.HealthCheck;
import io.meshproxy.core.config.HeaderMutation;
import io.meshproxy.core.config.LbPolicy;
import io.meshproxy.core.config.LocalRateLimit;
import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.config.RedirectAction;
import io.meshproxy.core.config.RetryBudget;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.TcpKeepalive;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.config.IdentityFiles;
import io.meshproxy.telemetry.TelemetryConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The resources as read from YAML, each part with the place it was written, before cross-checks. */
final class Resources {
    private Resources() {}

    /** metadata: name and namespace (the Proxy's namespace when not written). */
    record Meta(String name, String namespace, Loc loc) {}

    /** A policy Istio scopes by namespace and workload selector (PeerAuthentication, Telemetry). */
    interface Scoped {
        Meta meta();

        Map<String, String> selector();

        Loc loc();
    }

    /** @param identity {@code spec.identity}, its files resolved and found; null when absent (or wrong) */
    record Proxy(Meta meta, Loc kindLoc, Admin admin, List<Listener> listeners, List<DestinationPolicy> destinations,
            List<RouteRateLimit> routeRateLimits, Workload workload, TelemetrySpec telemetry, IdentityFiles identity,
            Loc identityLoc) {}

    /**
     * Istio's {@code PeerAuthentication} (security.istio.io): the mTLS mode of the workloads its namespace and
     * {@code selector} choose.
     *
     * @param selector {@code selector.matchLabels}; null: no selector (the namespace, or the mesh from the root
     *     namespace)
     * @param mode {@code mtls.mode} as written; null when not written (UNSET: inherit)
     * @param portModes {@code portLevelMtls}, by workload port; a null value is UNSET (the policy's own mode)
     */
    record PeerAuthentication(Meta meta, Map<String, String> selector, Str mode, Map<Integer, Str> portModes,
            Loc loc) implements Scoped {}

    /**
     * {@code spec.workload}: who the proxy stands in front of. A null field is not written ({@code namespace}
     * then is the Proxy's, {@code app} and {@code version} the labels of those names).
     */
    record Workload(Str name, Str namespace, Str app, Str version, Str serviceAccount, Map<String, String> labels) {
        static final Workload NONE = new Workload(null, null, null, null, null, Map.of());
    }

    /**
     * {@code spec.telemetry} as written: a null part is not written. {@code accessLog} is null when the block is
     * absent (access logs off unless a Telemetry resource turns them on); {@code zipkinEndpoint} null: no exporter.
     */
    record TelemetrySpec(Boolean metricsEnabled, List<String> inclusionRegexps, List<String> exclusionRegexps,
            Integer maxSeries, Double samplingPercent, Loc tracingLoc, String zipkinEndpoint, Integer maxQueuedSpans,
            String serviceName, TelemetryConfig.AccessLog accessLog) {
        static final TelemetrySpec NONE = new TelemetrySpec(null, List.of(), List.of(), null, null, null, null, null,
                null, null);
    }

    /**
     * Istio's {@code Telemetry} resource (telemetry.istio.io), the parts meshproxy applies: the tracing sampling
     * percentage and access logging on or off, for the workloads its namespace and {@code selector} choose.
     *
     * @param selector {@code selector.matchLabels}; null: no selector (the whole namespace, or the mesh from the
     *     root namespace)
     * @param samplingPercent {@code tracing[0].randomSamplingPercentage}; null: not set
     * @param accessLogDisabled {@code accessLogging[].disabled}; null: not set
     */
    record TelemetryResource(Meta meta, Map<String, String> selector, Double samplingPercent, Loc samplingLoc,
            Boolean accessLogDisabled, Loc loc) implements Scoped {}

    /**
     * Istio's {@code AuthorizationPolicy}, its rules checked; the namespace of the policy's name is decided when
     * the Proxy's is known.
     *
     * @param selector {@code selector.matchLabels}; null: no selector (its namespace, or the mesh from the root
     *     namespace)
     */
    record AuthzPolicy(Meta meta, Map<String, String> selector, io.meshproxy.tls.authz.AuthorizationPolicy.Action action,
            List<io.meshproxy.tls.authz.Rule> rules, Loc loc) implements Scoped {}

    /** Istio's {@code RequestAuthentication}: its {@code jwtRules}, for the workloads its selector chooses. */
    record RequestAuthn(Meta meta, Map<String, String> selector, List<JwtRuleAt> rules, Loc loc) implements Scoped {}

    /** One {@code jwtRules} entry and where its issuer is written. */
    record JwtRuleAt(io.meshproxy.config.InboundSecurity.JwtRuleConfig rule, Loc issuerLoc) {}

    /** The meshproxy extension {@code spec.destinations[]}: resilience settings for every cluster of a host. */
    record DestinationPolicy(Str host, FailureRateBreaker circuitBreaker, HealthCheck healthCheck,
            RetryBudget retryBudget, Loc loc) {}

    /** The meshproxy extension {@code spec.localRateLimits[]}: a token bucket on the routes of a VirtualService. */
    record RouteRateLimit(Str virtualService, Str route, LocalRateLimit limit, Loc loc) {}

    record Admin(String address, Int port) {}

    record Listener(Str name, String address, Int port, String direction, Loc directionLoc, Str forwardTo,
            String forwardHost, int forwardPort, UpstreamProtocol forwardProtocol, LocalRateLimit localRateLimit,
            Duration streamIdleTimeout, Loc loc) {}

    /**
     * @param subjectAltNames Istio's {@code subjectAltNames}: the identities its hosts' servers must present, used
     *     by the clusters whose DestinationRule {@code tls} names none
     * @param serviceAccounts the endpoints' {@code serviceAccount}s: with ISTIO_MUTUAL their SPIFFE IDs are accepted
     *     server identities too, as istiod adds them
     */
    record ServiceEntry(Meta meta, List<Str> hosts, List<Port> ports, String resolution, Loc resolutionLoc,
            List<Endpoint> endpoints, List<String> subjectAltNames, List<String> serviceAccounts, Loc loc) {}

    record Port(int number, Str name, UpstreamProtocol protocol, Integer targetPort, Loc loc) {
        /** The port endpoints listen on unless an endpoint says otherwise: the target port, else the port. */
        int target() {
            return targetPort != null ? targetPort : number;
        }
    }

    record Endpoint(Str address, Map<Str, Int> ports, Map<String, String> labels, int weight, Loc loc) {}

    /**
     * The parts of a traffic policy meshproxy implements. A null part is not set: a subset inherits it from the
     * rule; a port-level entry does not inherit (Istio: its omitted parts take their defaults).
     */
    record Policy(LbPolicy lb, Pool pool, OutlierDetection outlier, Tls tls, List<PortPolicy> ports) {
        static final Policy NONE = new Policy(null, null, null, null, List.of());
    }

    record PortPolicy(Int port, LbPolicy lb, Pool pool, OutlierDetection outlier, Tls tls) {}

    /**
     * Istio's {@code tls} (ClientTLSSettings) as written, its files resolved and found.
     *
     * @param value what the cluster gets; null for mode DISABLE (plaintext)
     * @param modeLoc where the mode is written (the block's place when it is not)
     */
    record Tls(UpstreamTls value, Loc modeLoc) {}

    /**
     * Istio's {@code connectionPool}, as written: a null field is not set (Istio's default applies). Istio treats
     * 0 as not set for the four thresholds and maxRequestsPerConnection; so does this.
     */
    record Pool(Duration connectTimeout, Integer maxConnections, TcpKeepalive tcpKeepalive,
            Integer http1MaxPendingRequests, Integer http2MaxRequests, Integer maxRequestsPerConnection,
            Integer maxRetries, Duration idleTimeout, boolean h2Upgrade, Integer maxConcurrentStreams) {}

    record DestinationRule(Meta meta, Str host, Policy policy, List<Subset> subsets, Loc loc) {}

    record Subset(Str name, Map<String, String> labels, Loc labelsLoc, Policy policy, Loc loc) {}

    record VirtualService(Meta meta, List<Str> hosts, List<Http> http, Loc loc) {}

    /** One entry of {@code http[]}: its matches (OR), and exactly one of route, redirect, directResponse. */
    record Http(String name, List<Match> matches, List<Destination> route, Loc routeLoc, Str uriRewrite,
            String authorityRewrite, RouteAction.RegexRewrite regexRewrite, RedirectAction redirect,
            DirectResponseAction directResponse, HeaderMutation requestHeaders, HeaderMutation responseHeaders,
            Duration timeout, RetryPolicy retryPolicy, FaultPolicy fault, Loc loc) {}

    record Match(RouteMatch match, Int port, Loc loc) {}

    record Destination(Str host, Str subset, Int port, Integer weight, HeaderMutation requestHeaders,
            HeaderMutation responseHeaders, Loc loc) {}
}
