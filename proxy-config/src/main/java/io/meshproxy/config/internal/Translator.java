package io.meshproxy.config.internal;

import io.meshproxy.config.ConfigError;
import io.meshproxy.config.ConfigSource;
import io.meshproxy.config.IdentityFiles;
import io.meshproxy.config.InboundSecurity;
import io.meshproxy.config.FieldValidation;
import io.meshproxy.config.ListenerRole;
import io.meshproxy.config.internal.Obj.Str;
import io.meshproxy.config.internal.Resources.Destination;
import io.meshproxy.config.internal.Resources.DestinationPolicy;
import io.meshproxy.config.internal.Resources.DestinationRule;
import io.meshproxy.config.internal.Resources.Endpoint;
import io.meshproxy.config.internal.Resources.Http;
import io.meshproxy.config.internal.Resources.Listener;
import io.meshproxy.config.internal.Resources.Match;
import io.meshproxy.config.internal.Resources.Policy;
import io.meshproxy.config.internal.Resources.PeerAuthentication;
import io.meshproxy.config.internal.Resources.Port;
import io.meshproxy.config.internal.Resources.Pool;
import io.meshproxy.config.internal.Resources.PortPolicy;
import io.meshproxy.config.internal.Resources.RouteRateLimit;
import io.meshproxy.config.internal.Resources.ServiceEntry;
import io.meshproxy.config.internal.Resources.Subset;
import io.meshproxy.config.internal.Resources.TelemetryResource;
import io.meshproxy.config.internal.Resources.Tls;
import io.meshproxy.config.internal.Resources.VirtualService;
import io.meshproxy.core.config.Action;
import io.meshproxy.core.config.AdminConfig;
import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ConfigException;
import io.meshproxy.core.config.ConnectionPoolConfig;
import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.config.EndpointConfig;
import io.meshproxy.core.config.HeaderMutation;
import io.meshproxy.core.config.LbPolicy;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.LocalRateLimit;
import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.config.PathMatch;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteConfiguration;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.config.VirtualHost;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.telemetry.WorkloadInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Parses YAML sources, binds and cross-checks the resources, and translates them to the core model the way
 * istiod translates them for Envoy:
 * <ul>
 *   <li>each ServiceEntry host and port becomes a cluster {@code outbound|PORT||HOST}, and each
 *       DestinationRule subset one more, {@code outbound|PORT|SUBSET|HOST}, holding the endpoints the subset
 *       selects (Istio's naming, so {@code /clusters} reads like Envoy's);</li>
 *   <li>each host and port becomes a virtual host of the OUTBOUND route table, answering to the host, its
 *       short Kubernetes names and each with {@code :PORT}; a host's default port (80 when declared, else its
 *       first) also answers without a port;</li>
 *   <li>the VirtualService for a host gives the routes of its virtual hosts (an {@code http[]} entry with
 *       several matches becomes one route per match, as Envoy needs); a host without one gets a default route
 *       to all its endpoints;</li>
 *   <li>an INBOUND listener gets a cluster {@code inbound|LISTENER} with its {@code forwardTo} endpoint and a
 *       route table sending everything there.</li>
 * </ul>
 */
public final class Translator {
    private Translator() {}

    /** Istio's root namespace (meshConfig.rootNamespace's default): a Telemetry there applies to the whole mesh. */
    static final String ROOT_NAMESPACE = "istio-system";

    /**
     * The translation: a config and the listeners' roles when {@code errors} is empty; the warnings either way
     * (deprecated fields, and with {@link FieldValidation#WARN} the unknown fields dropped).
     */
    public record Result(ProxyConfig config, List<ListenerRole> listeners, List<ConfigError> errors,
            List<ConfigError> warnings, TelemetryConfig telemetry, IdentityFiles identity,
            InboundSecurity inboundSecurity) {
        /** Without telemetry (its defaults), a workload identity or inbound security. */
        public Result(ProxyConfig config, List<ListenerRole> listeners, List<ConfigError> errors,
                List<ConfigError> warnings) {
            this(config, listeners, errors, warnings, TelemetryConfig.DEFAULT, null, InboundSecurity.NONE);
        }
    }

    public static Result translate(List<ConfigSource> sources) {
        return translate(sources, FieldValidation.STRICT);
    }

    public static Result translate(List<ConfigSource> sources, FieldValidation fieldValidation) {
        Diagnostics diag = new Diagnostics(fieldValidation);
        ResourceReader reader = new ResourceReader(diag);
        for (ConfigSource s : sources) {
            reader.read(s);
        }
        ProxyConfig config;
        Translation translation = new Translation(diag, reader, sources);
        try {
            config = translation.run();
        } catch (IllegalArgumentException e) { // ConfigException too
            // A core builder refused something the checks above let through. With errors already found it is
            // their consequence; without, it is a gap in these checks, still reported rather than thrown.
            if (!diag.hasErrors()) {
                String file = sources.isEmpty() ? "<none>" : sources.get(0).name();
                diag.error(new Loc(file, 1, 1), "invalid configuration: " + e.getMessage());
            }
            config = null;
        }
        if (diag.hasErrors()) {
            return new Result(null, List.of(), diag.sorted(), diag.sortedWarnings());
        }
        List<ListenerRole> roles = new ArrayList<>();
        for (Listener l : reader.proxies.get(0).listeners()) {
            boolean inbound = l.direction().equals("INBOUND");
            roles.add(new ListenerRole(l.name().value(),
                    inbound ? ListenerRole.Direction.INBOUND : ListenerRole.Direction.OUTBOUND,
                    inbound ? l.forwardTo().value() : null));
        }
        return new Result(config, roles, List.of(), diag.sortedWarnings(), translation.telemetry,
                reader.proxies.get(0).identity(), translation.inboundSecurity);
    }

    /** One run of the translation. */
    private static final class Translation {
        private final Diagnostics diag;
        private final ResourceReader reader;
        private final List<ConfigSource> sources;
        private String namespace = "default";
        /** Services by host (lower case), in ServiceEntry order. */
        private final Map<String, Service> services = new LinkedHashMap<>();
        private final Map<Service, DestinationRule> rules = new HashMap<>();
        private final Map<Service, VirtualService> routing = new HashMap<>();
        /** The Proxy's {@code destinations[]} extension, by service. */
        private final Map<Service, DestinationPolicy> extensions = new HashMap<>();
        /** The Proxy's {@code localRateLimits[]}: per VirtualService, by http route name (null: all its routes). */
        private final Map<VirtualService, Map<String, LocalRateLimit>> routeLimits = new HashMap<>();
        private final List<ClusterConfig> clusters = new ArrayList<>();
        /** The trust domain of the Proxy's {@code spec.identity}, or null without one. */
        private String trustDomain;
        /** The mTLS mode of each INBOUND listener, by listener name, from the PeerAuthentications that apply. */
        private final Map<String, DownstreamTlsMode> inboundModes = new HashMap<>();
        /** spec.workload, spec.telemetry and the Telemetry resources that apply, merged. */
        private TelemetryConfig telemetry = TelemetryConfig.DEFAULT;
        /** The AuthorizationPolicies and RequestAuthentications that apply to the workload. */
        private InboundSecurity inboundSecurity = InboundSecurity.NONE;

        Translation(Diagnostics diag, ResourceReader reader, List<ConfigSource> sources) {
            this.diag = diag;
            this.reader = reader;
            this.sources = sources;
        }

        /** A ServiceEntry host: the unit Istio builds clusters and virtual hosts for. */
        private record Service(String host, ServiceEntry entry, String resolution) {}

        ProxyConfig run() {
            Resources.Proxy proxy = proxy();
            if (proxy != null) {
                checkListeners(proxy);
                telemetry = telemetry(proxy);
                inboundTlsModes(proxy);
                inboundSecurity = inboundSecurity(proxy);
            }
            services();
            destinationRules();
            if (proxy != null) {
                checkIstioMutual(proxy);
            }
            virtualServices();
            if (proxy != null) {
                destinationExtensions(proxy);
                routeRateLimits(proxy);
            }
            if (proxy == null || diag.hasErrors()) {
                // Building routes and clusters from resources with errors would only repeat them.
                return null;
            }
            RouteConfiguration outbound = outboundRoutes();
            List<ListenerConfig> listeners = listeners(proxy, outbound);
            for (Service s : services.values()) {
                serviceClusters(s);
            }
            if (diag.hasErrors()) {
                return null;
            }
            ProxyConfig.Builder b = ProxyConfig.builder();
            listeners.forEach(b::listener);
            clusters.forEach(b::cluster);
            if (proxy.admin() != null) {
                var a = proxy.admin();
                b.admin(new AdminConfig(a.address(), a.port() == null ? 15000 : a.port().value()));
            }
            return build(proxy.kindLoc(), b::build);
        }

        /**
         * The server identities a ServiceEntry accepts: its {@code subjectAltNames}, and with ISTIO_MUTUAL the SPIFFE
         * ID of each endpoint's {@code serviceAccount} in the ServiceEntry's namespace and the workload's trust domain.
         */
        private List<String> entrySubjectAltNames(ServiceEntry entry, UpstreamTls.Mode mode) {
            if (mode != UpstreamTls.Mode.ISTIO_MUTUAL || entry.serviceAccounts().isEmpty() || trustDomain == null) {
                return entry.subjectAltNames();
            }
            List<String> sans = new ArrayList<>(entry.subjectAltNames());
            String ns = entry.meta().namespace() != null ? entry.meta().namespace() : namespace;
            for (String sa : entry.serviceAccounts()) {
                String id = "spiffe://" + trustDomain + "/ns/" + ns + "/sa/" + sa;
                if (!sans.contains(id)) {
                    sans.add(id);
                }
            }
            return sans;
        }

        // ------------------------------------------------------------ Proxy

        private Resources.Proxy proxy() {
            if (reader.proxies.isEmpty()) {
                String file = sources.isEmpty() ? "<none>" : sources.get(0).name();
                diag.error(new Loc(file, 1, 1), "no Proxy resource (apiVersion: " + ResourceReader.MESHPROXY_API
                        + ", kind: Proxy) in " + (sources.size() == 1 ? "this file" : "these " + sources.size() + " files")
                        + ": it names the listeners and the admin server");
                return null;
            }
            Resources.Proxy first = reader.proxies.get(0);
            for (int i = 1; i < reader.proxies.size(); i++) {
                diag.error(reader.proxies.get(i).kindLoc(), "a second Proxy resource; the first is at "
                        + first.kindLoc());
            }
            if (first.meta().namespace() != null) {
                namespace = first.meta().namespace();
            }
            trustDomain = first.identity() == null ? null : first.identity().trustDomain();
            return first;
        }

        // ------------------------------------------------------------ telemetry

        /**
         * The telemetry of this proxy: {@code spec.workload}, {@code spec.telemetry}, and the Telemetry resources
         * that apply to the workload, scoped as Istio scopes them: one in the root namespace without a selector
         * applies to the whole mesh; one in the workload's namespace without a selector to that namespace, over
         * the root's; one in the workload's namespace whose {@code selector} matches the workload's labels, over
         * both. Each setting comes from the most specific level that writes it, else {@code spec.telemetry}.
         * Reporters: {@code source} on every OUTBOUND listener, {@code destination} on every INBOUND one.
         */
        private TelemetryConfig telemetry(Resources.Proxy proxy) {
            Resources.Workload w = proxy.workload();
            String wlNamespace = workloadNamespace(proxy);
            Map<String, String> labels = workloadLabels(proxy);
            String app = labels.get("app");
            String version = labels.get("version");
            // the trust domain of spec.identity makes the workload's own SPIFFE ID (its principal in the metrics)
            WorkloadInfo workload = new WorkloadInfo(w.name() == null ? null : w.name().value(), wlNamespace, app,
                    version, w.serviceAccount() == null ? null : w.serviceAccount().value(), w.labels(),
                    proxy.identity() == null ? null : proxy.identity().trustDomain());

            // The three levels of Istio's Telemetry hierarchy, least specific first.
            TelemetryResource[] levels = byScope("Telemetry", reader.telemetries, new TelemetryResource[3],
                    wlNamespace, labels);
            Double sampling = null;
            Loc samplingLoc = null;
            Boolean accessLogDisabled = null;
            for (int i = 2; i >= 0; i--) {
                TelemetryResource t = levels[i];
                if (t == null) {
                    continue;
                }
                if (sampling == null && t.samplingPercent() != null) {
                    sampling = t.samplingPercent();
                    samplingLoc = t.samplingLoc();
                }
                if (accessLogDisabled == null && t.accessLogDisabled() != null) {
                    accessLogDisabled = t.accessLogDisabled();
                }
            }

            Resources.TelemetrySpec spec = proxy.telemetry();
            TelemetryConfig.Metrics md = TelemetryConfig.Metrics.DEFAULT;
            TelemetryConfig.Metrics metrics = new TelemetryConfig.Metrics(
                    spec.metricsEnabled() == null ? md.enabled() : spec.metricsEnabled(), spec.inclusionRegexps(),
                    spec.exclusionRegexps(), spec.maxSeries() == null ? md.maxSeries() : spec.maxSeries());

            TelemetryConfig.Tracing td = TelemetryConfig.Tracing.DISABLED;
            double pct = sampling != null ? sampling : spec.samplingPercent() != null ? spec.samplingPercent()
                    : td.samplingPercent();
            if (spec.zipkinEndpoint() == null) {
                if (samplingLoc != null) {
                    diag.warning(samplingLoc, "'randomSamplingPercentage' has no effect: tracing is off until the"
                            + " Proxy's spec.telemetry.tracing.zipkin.endpoint is set");
                } else if (spec.tracingLoc() != null) {
                    diag.warning(spec.tracingLoc(), "tracing is off: spec.telemetry.tracing has no zipkin.endpoint"
                            + " to export spans to");
                }
            }
            TelemetryConfig.Tracing tracing = new TelemetryConfig.Tracing(pct, spec.zipkinEndpoint(),
                    spec.maxQueuedSpans() == null ? td.maxQueuedSpans() : spec.maxQueuedSpans(), spec.serviceName());

            TelemetryConfig.AccessLog accessLog = spec.accessLog();
            TelemetryConfig.AccessLog ad = TelemetryConfig.AccessLog.DISABLED;
            if (Boolean.TRUE.equals(accessLogDisabled)) {
                accessLog = accessLog == null ? ad : new TelemetryConfig.AccessLog(null, accessLog.samplingPercent(),
                        accessLog.alwaysLogErrors(), accessLog.queueSize());
            } else if (Boolean.FALSE.equals(accessLogDisabled) && accessLog == null) {
                accessLog = new TelemetryConfig.AccessLog(ResourceReader.STDOUT, ad.samplingPercent(),
                        ad.alwaysLogErrors(), ad.queueSize());
            }

            Map<String, String> reporters = new LinkedHashMap<>();
            for (Listener l : proxy.listeners()) {
                if (l.name() != null && l.direction() != null) {
                    reporters.put(l.name().value(), l.direction().equals("INBOUND") ? "destination" : "source");
                }
            }
            return new TelemetryConfig(workload, reporters, metrics, tracing, accessLog);
        }

        /** The workload's namespace: {@code spec.workload.namespace}, else the Proxy's (else {@code default}). */
        private String workloadNamespace(Resources.Proxy proxy) {
            Resources.Workload w = proxy.workload();
            return w.namespace() != null ? w.namespace().value() : namespace;
        }

        /**
         * The labels selectors match: {@code spec.workload.labels}, with {@code app} and {@code version} from the
         * fields of those names, else from the Kubernetes recommended labels {@code app.kubernetes.io/name} and
         * {@code app.kubernetes.io/version} (as Istio reads them).
         */
        private static Map<String, String> workloadLabels(Resources.Proxy proxy) {
            Resources.Workload w = proxy.workload();
            Map<String, String> labels = new LinkedHashMap<>(w.labels());
            String app = w.app() != null ? w.app().value()
                    : labels.getOrDefault("app", labels.get("app.kubernetes.io/name"));
            String version = w.version() != null ? w.version().value()
                    : labels.getOrDefault("version", labels.get("app.kubernetes.io/version"));
            if (app != null) {
                labels.putIfAbsent("app", app);
            }
            if (version != null) {
                labels.putIfAbsent("version", version);
            }
            return labels;
        }

        // ------------------------------------------------------------ mTLS

        /**
         * The mTLS mode of each INBOUND listener, composed as istiod composes PeerAuthentications for a workload:
         * the policy in the root namespace without a selector (mesh), then the one in the workload's namespace
         * without a selector (namespace), then the one in the workload's namespace whose selector matches the
         * workload's labels (workload); each level's mode replaces the one before unless it is UNSET (or not
         * written). The workload policy's {@code portLevelMtls} entry for the listener's workload port (the port
         * of its {@code forwardTo}) comes last, UNSET inheriting the workload's mode. With no mode from any level:
         * PERMISSIVE (Istio's default) when {@code spec.identity} is set, else DISABLE (without an identity
         * meshproxy has no certificate to serve). OUTBOUND listeners are never affected.
         */
        private void inboundTlsModes(Resources.Proxy proxy) {
            String wlNamespace = workloadNamespace(proxy);
            Map<String, String> labels = workloadLabels(proxy);
            PeerAuthentication[] levels = byScope("PeerAuthentication", reader.peerAuthentications,
                    new PeerAuthentication[3], wlNamespace, labels);
            Str workloadMode = null;
            for (PeerAuthentication p : levels) {
                if (p != null && set(p.mode())) {
                    workloadMode = p.mode();
                }
            }
            for (Listener l : proxy.listeners()) {
                if (l.name() == null || !"INBOUND".equals(l.direction())) {
                    continue;
                }
                Str mode = workloadMode;
                if (levels[2] != null && set(levels[2].portModes().get(l.forwardPort()))) {
                    mode = levels[2].portModes().get(l.forwardPort());
                }
                DownstreamTlsMode result;
                if (mode == null) {
                    result = proxy.identity() != null ? DownstreamTlsMode.PERMISSIVE : DownstreamTlsMode.DISABLE;
                } else {
                    result = DownstreamTlsMode.valueOf(mode.value());
                    if (result != DownstreamTlsMode.DISABLE && proxy.identity() == null) {
                        diag.error(mode.loc(), "mTLS mode " + mode.value() + " for listener '" + l.name().value()
                                + "' needs spec.identity in the Proxy at " + proxy.kindLoc()
                                + " (the workload certificate to present)");
                        continue;
                    }
                }
                inboundModes.put(l.name().value(), result);
            }
        }

        // ------------------------------------------------------------ authorization

        /**
         * The AuthorizationPolicies and RequestAuthentications that apply to the workload, combined as Istio combines
         * them: not the most specific one, but every one that applies (the root namespace's without selector for the
         * whole mesh, the workload namespace's without selector, and any whose selector matches the workload's
         * labels, in the workload's namespace or the root one). JWT rules of all applying RequestAuthentications are
         * merged; two for one issuer are an error, as meshproxy picks a token's rule by its issuer.
         */
        private InboundSecurity inboundSecurity(Resources.Proxy proxy) {
            String wlNamespace = workloadNamespace(proxy);
            Map<String, String> labels = workloadLabels(proxy);
            List<io.meshproxy.tls.authz.AuthorizationPolicy> policies = new ArrayList<>();
            for (Resources.AuthzPolicy p : reader.authorizationPolicies) {
                if (scopeLevel("AuthorizationPolicy", p, wlNamespace, labels, true) >= 0) {
                    io.meshproxy.tls.authz.AuthorizationPolicy ap = build(p.loc(),
                            () -> new io.meshproxy.tls.authz.AuthorizationPolicy(p.meta().name(), namespaceOf(p),
                                    p.action(), p.rules()));
                    if (ap != null) {
                        policies.add(ap);
                    }
                }
            }
            Map<String, Resources.JwtRuleAt> byIssuer = new LinkedHashMap<>();
            for (Resources.RequestAuthn ra : reader.requestAuthentications) {
                if (scopeLevel("RequestAuthentication", ra, wlNamespace, labels, true) < 0) {
                    continue;
                }
                for (Resources.JwtRuleAt r : ra.rules()) {
                    Resources.JwtRuleAt first = byIssuer.putIfAbsent(r.rule().issuer(), r);
                    if (first != null) {
                        diag.error(r.issuerLoc(), "a second JWT rule for issuer '" + r.rule().issuer()
                                + "' applies to this workload (the first is at " + first.issuerLoc()
                                + "): a token's issuer chooses its rule, keep one");
                    }
                }
            }
            return new InboundSecurity(policies, byIssuer.values().stream().map(Resources.JwtRuleAt::rule).toList());
        }

        /** A mode that decides: written, and not UNSET. */
        private static boolean set(Str mode) {
            return mode != null && !mode.value().equals("UNSET");
        }

        /** ISTIO_MUTUAL presents the workload identity: every DestinationRule {@code tls} with it needs one. */
        private void checkIstioMutual(Resources.Proxy proxy) {
            if (proxy.identity() != null) {
                return;
            }
            for (DestinationRule dr : reader.destinationRules) {
                List<Policy> policies = new ArrayList<>();
                policies.add(dr.policy());
                dr.subsets().forEach(sub -> policies.add(sub.policy()));
                for (Policy p : policies) {
                    List<Tls> all = new ArrayList<>();
                    all.add(p.tls());
                    p.ports().forEach(pp -> all.add(pp.tls()));
                    for (Tls t : all) {
                        if (t != null && t.value() != null && t.value().mode() == UpstreamTls.Mode.ISTIO_MUTUAL) {
                            diag.error(t.modeLoc(), "tls mode ISTIO_MUTUAL needs spec.identity in the Proxy at "
                                    + proxy.kindLoc() + " (the workload certificate to present)");
                        }
                    }
                }
            }
        }

        /** Istio's {@code selector.matchLabels}: every label written is on the workload with that value. */
        /**
         * Istio's three scopes of a workload policy, least specific first, into {@code levels}: [0] the root
         * namespace without selector (the whole mesh), [1] the workload's namespace without selector, [2] the
         * workload's namespace with a selector its labels match. A policy of another namespace, or whose selector
         * does not match, is a warning saying why it does not apply; a second one for a scope is an error.
         */
        private <T extends Resources.Scoped> T[] byScope(String kind, List<T> policies, T[] levels, String wlNamespace,
                Map<String, String> labels) {
            for (T p : policies) {
                int level = scopeLevel(kind, p, wlNamespace, labels, false);
                if (level < 0) {
                    continue;
                }
                T first = levels[level];
                if (first != null) {
                    String ns = namespaceOf(p);
                    String scope = switch (level) {
                        case 0 -> "the whole mesh (root namespace " + ROOT_NAMESPACE + ")";
                        case 1 -> "the whole namespace '" + ns + "'";
                        default -> "this workload";
                    };
                    diag.error(p.loc(), "a second " + kind + " for " + scope + ": '" + first.meta().name() + "' at "
                            + first.loc() + " is one already; Istio would apply only the older of them, keep one");
                    continue;
                }
                levels[level] = p;
            }
            return levels;
        }

        private String namespaceOf(Resources.Scoped p) {
            return p.meta().namespace() != null ? p.meta().namespace() : namespace;
        }

        /**
         * The scope at which {@code p} applies to this workload: 0 the root namespace without selector (the whole
         * mesh), 1 the workload's namespace without selector, 2 a selector the workload's labels match (in the
         * workload's namespace, or with {@code rootSelects} in the root namespace too, as Istio applies
         * AuthorizationPolicies); -1, with a warning saying why, when it does not apply.
         */
        private int scopeLevel(String kind, Resources.Scoped p, String wlNamespace, Map<String, String> labels,
                boolean rootSelects) {
            String ns = namespaceOf(p);
            String name = kind + " '" + p.meta().name() + "'";
            if (p.selector() != null) {
                if (!ns.equals(wlNamespace) && !(rootSelects && ns.equals(ROOT_NAMESPACE))) {
                    diag.warning(p.loc(), name + " selects workloads of namespace '" + ns + "'; this workload is"
                            + " in '" + wlNamespace + "': it does not apply");
                    return -1;
                }
                if (!matches(p.selector(), labels)) {
                    diag.warning(p.loc(), name + " selects " + new java.util.TreeMap<>(p.selector())
                            + ", which this workload's labels " + new java.util.TreeMap<>(labels)
                            + " do not match: it does not apply");
                    return -1;
                }
                return 2;
            }
            if (ns.equals(ROOT_NAMESPACE)) {
                return 0;
            }
            if (ns.equals(wlNamespace)) {
                return 1;
            }
            diag.warning(p.loc(), name + " applies to namespace '" + ns + "'; this workload is in '"
                    + wlNamespace + "' (and the root namespace, for the whole mesh, is " + ROOT_NAMESPACE
                    + "): it does not apply");
            return -1;
        }

        private static boolean matches(Map<String, String> selector, Map<String, String> labels) {
            for (Map.Entry<String, String> e : selector.entrySet()) {
                if (!e.getValue().equals(labels.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }

        /** Listener names are unique; no two binds share a port on one address (or on the wildcard address). */
        private void checkListeners(Resources.Proxy proxy) {
            Map<String, String> ports = new LinkedHashMap<>(); // "PORT ADDRESS" -> who binds it
            Map<String, Loc> names = new HashMap<>();
            if (proxy.admin() != null && proxy.admin().port() != null && proxy.admin().port().value() != 0) {
                ports.put(proxy.admin().port().value() + " " + proxy.admin().address(),
                        "the admin server at " + proxy.admin().port().loc());
            }
            for (Listener l : proxy.listeners()) {
                if (l.name() != null) {
                    Loc first = names.putIfAbsent(l.name().value(), l.name().loc());
                    if (first != null) {
                        diag.error(l.name().loc(), "duplicate listener name '" + l.name().value() + "', also at " + first);
                    }
                }
                if (l.port() != null && l.port().value() != 0) {
                    String owner = null;
                    for (Map.Entry<String, String> e : ports.entrySet()) {
                        String[] used = e.getKey().split(" ", 2);
                        if (Integer.parseInt(used[0]) == l.port().value() && sameOrWildcard(used[1], l.address())) {
                            owner = e.getValue();
                        }
                    }
                    if (owner != null) {
                        diag.error(l.port().loc(), "port " + l.port().value() + " is already used by " + owner);
                    } else {
                        ports.put(l.port().value() + " " + l.address(),
                                "listener '" + (l.name() == null ? "?" : l.name().value()) + "' at " + l.port().loc());
                    }
                }
            }
        }

        private List<ListenerConfig> listeners(Resources.Proxy proxy, RouteConfiguration outbound) {
            List<ListenerConfig> out = new ArrayList<>();
            for (Listener l : proxy.listeners()) {
                if (l.name() == null || l.port() == null || l.direction() == null) {
                    continue;
                }
                ListenerConfig.Builder b = ListenerConfig.builder().name(l.name().value()).address(l.address())
                        .port(l.port().value()).localRateLimit(l.localRateLimit());
                if (l.streamIdleTimeout() != null) {
                    b.streamIdleTimeout(l.streamIdleTimeout());
                }
                if (l.direction().equals("OUTBOUND")) {
                    b.routes(outbound);
                } else {
                    b.tlsMode(inboundModes.getOrDefault(l.name().value(), DownstreamTlsMode.DISABLE));
                    if (l.forwardHost() == null) {
                        continue;
                    }
                    String cluster = "inbound|" + l.name().value();
                    ClusterConfig c = build(l.forwardTo().loc(), () -> ClusterConfig.builder().name(cluster)
                            .endpoint(EndpointConfig.of(l.forwardHost(), l.forwardPort()))
                            .protocol(l.forwardProtocol()).circuitBreakers(CircuitBreakers.UNLIMITED).build());
                    if (c == null) {
                        continue;
                    }
                    clusters.add(c);
                    b.routes(RouteConfiguration.builder().name(cluster)
                            .virtualHost(VirtualHost.builder().name("inbound").domain("*")
                                    .route(Route.builder().name("inbound")
                                            .action(RouteAction.builder().cluster(cluster).build()).build())
                                    .build())
                            .build());
                }
                ListenerConfig lc = build(l.loc(), b::build);
                if (lc != null) {
                    out.add(lc);
                }
            }
            return out;
        }

        /** Two binds of one port clash on the same address, or when either is the wildcard address. */
        private static boolean sameOrWildcard(String a, String b) {
            return a.equals(b) || a.equals("0.0.0.0") || b.equals("0.0.0.0") || a.equals("::") || b.equals("::");
        }

        // ------------------------------------------------------------ ServiceEntry

        private void services() {
            Map<String, Loc> seen = new HashMap<>();
            for (ServiceEntry se : reader.serviceEntries) {
                String resolution = se.resolution();
                if (resolution == null) {
                    boolean allIps = !se.endpoints().isEmpty()
                            && se.endpoints().stream().allMatch(e -> ResourceReader.isIp(e.address().value()));
                    resolution = allIps ? "STATIC" : "DNS";
                }
                Set<String> portNames = new HashSet<>();
                Set<Integer> portNumbers = new HashSet<>();
                for (Port p : se.ports()) {
                    if (!portNames.add(p.name().value())) {
                        diag.error(p.name().loc(), "duplicate port name '" + p.name().value() + "'");
                    }
                    if (!portNumbers.add(p.number())) {
                        diag.error(p.loc(), "duplicate port number " + p.number());
                    }
                }
                for (Endpoint e : se.endpoints()) {
                    for (Str name : e.ports().keySet()) {
                        if (!portNames.contains(name.value())) {
                            diag.error(name.loc(), "no port named '" + name.value() + "' in this ServiceEntry"
                                    + Names.suggestion(name.value(), portNames));
                        }
                    }
                }
                for (Port p : se.ports()) {
                    Set<String> seenEndpoints = new HashSet<>();
                    for (Endpoint e : se.endpoints()) {
                        String key = e.address().value() + ":" + endpointPort(e, p);
                        if (!seenEndpoints.add(key)) {
                            diag.error(e.loc(), "duplicate endpoint " + key + " for port " + p.name().value());
                        }
                    }
                }
                for (Str h : se.hosts()) {
                    if (h.value().contains("*")) {
                        continue;
                    }
                    String host = h.value().toLowerCase(Locale.ROOT);
                    Loc first = seen.putIfAbsent(host, h.loc());
                    if (first != null) {
                        diag.error(h.loc(), "host '" + h.value() + "' is already defined by a ServiceEntry at " + first);
                        continue;
                    }
                    services.put(host, new Service(host, se, resolution));
                }
            }
        }

        /** The service a rule's host names: exact, else a short name expanded in the rule's namespace. */
        private Service lookup(String host, String ruleNamespace) {
            String h = host.toLowerCase(Locale.ROOT);
            Service s = services.get(h);
            if (s == null && !h.contains(".")) {
                s = services.get(h + "." + (ruleNamespace == null ? namespace : ruleNamespace) + ".svc.cluster.local");
            }
            return s;
        }

        private String noService(String what, Str host) {
            return what + " '" + host.value() + "' matches no ServiceEntry host"
                    + Names.suggestion(host.value(), services.keySet());
        }

        // ------------------------------------------------------------ meshproxy extensions

        /** {@code destinations[].host} resolves as a DestinationRule host does, short names in the Proxy's namespace. */
        private void destinationExtensions(Resources.Proxy proxy) {
            for (DestinationPolicy d : proxy.destinations()) {
                Service s = lookup(d.host().value(), proxy.meta().namespace());
                if (s == null) {
                    diag.error(d.host().loc(), noService("destinations host", d.host()));
                    continue;
                }
                DestinationPolicy other = extensions.putIfAbsent(s, d);
                if (other != null) {
                    diag.error(d.host().loc(), "host '" + s.host() + "' is already in 'destinations' at "
                            + other.host().loc());
                }
            }
        }

        /** {@code localRateLimits[]}: a VirtualService by name, and optionally one of its http routes by name. */
        private void routeRateLimits(Resources.Proxy proxy) {
            Set<String> names = new java.util.TreeSet<>();
            reader.virtualServices.forEach(vs -> {
                if (vs.meta().name() != null) {
                    names.add(vs.meta().name());
                }
            });
            for (RouteRateLimit rl : proxy.routeRateLimits()) {
                List<VirtualService> found = reader.virtualServices.stream()
                        .filter(vs -> rl.virtualService().value().equals(vs.meta().name())).toList();
                if (found.isEmpty()) {
                    diag.error(rl.virtualService().loc(), "no VirtualService named '" + rl.virtualService().value()
                            + "'" + Names.suggestion(rl.virtualService().value(), names));
                    continue;
                }
                if (found.size() > 1) {
                    diag.error(rl.virtualService().loc(), "several VirtualServices are named '"
                            + rl.virtualService().value() + "' (in different namespaces): rename one");
                    continue;
                }
                VirtualService vs = found.get(0);
                String route = rl.route() == null ? null : rl.route().value();
                if (route != null) {
                    List<String> routes = vs.http().stream().map(Http::name).filter(n -> n != null).toList();
                    if (!routes.contains(route)) {
                        diag.error(rl.route().loc(), "VirtualService '" + vs.meta().name() + "' has no http route named '"
                                + route + "' (" + (routes.isEmpty() ? "its routes have no 'name'"
                                        : "it has " + String.join(", ", routes)) + ")" + Names.suggestion(route, routes));
                        continue;
                    }
                }
                Map<String, LocalRateLimit> byRoute = routeLimits.computeIfAbsent(vs, k -> new HashMap<>());
                if (byRoute.containsKey(route)) {
                    diag.error(rl.loc(), "a second local rate limit for " + (route == null
                            ? "all routes of VirtualService '" + vs.meta().name() + "'"
                            : "route '" + route + "' of VirtualService '" + vs.meta().name() + "'"));
                    continue;
                }
                byRoute.put(route, rl.limit());
            }
        }

        // ------------------------------------------------------------ DestinationRule

        private void destinationRules() {
            for (DestinationRule dr : reader.destinationRules) {
                if (dr.host() == null) {
                    continue;
                }
                if (dr.host().value().contains("*")) {
                    diag.error(dr.host().loc(), "wildcard DestinationRule hosts are not supported yet: name the host");
                    continue;
                }
                Service s = lookup(dr.host().value(), dr.meta().namespace());
                if (s == null) {
                    diag.error(dr.host().loc(), noService("DestinationRule host", dr.host()));
                    continue;
                }
                DestinationRule other = rules.putIfAbsent(s, dr);
                if (other != null) {
                    diag.error(dr.host().loc(), "host '" + s.host() + "' already has a DestinationRule at "
                            + other.host().loc());
                    continue;
                }
                Map<String, Loc> names = new HashMap<>();
                for (Subset sub : dr.subsets()) {
                    Loc first = names.putIfAbsent(sub.name().value(), sub.name().loc());
                    if (first != null) {
                        diag.error(sub.name().loc(), "duplicate subset name '" + sub.name().value() + "', also at " + first);
                        continue;
                    }
                    if (sub.labels().isEmpty()) {
                        continue; // reported as missing by the reader
                    }
                    boolean any = s.entry().endpoints().stream().anyMatch(e -> selects(sub, e.labels()));
                    if (!any) {
                        diag.error(sub.labelsLoc(), "subset '" + sub.name().value() + "' selects no endpoint of host '"
                                + s.host() + "': no endpoint has the labels " + labels(sub.labels()));
                    }
                }
                for (Policy p : policies(dr)) {
                    for (PortPolicy pp : p.ports()) {
                        if (!hasPort(s, pp.port().value())) {
                            diag.error(pp.port().loc(), "host '" + s.host() + "' has no port " + pp.port().value());
                        }
                    }
                }
            }
        }

        private static List<Policy> policies(DestinationRule dr) {
            List<Policy> all = new ArrayList<>();
            all.add(dr.policy());
            dr.subsets().forEach(s -> all.add(s.policy()));
            return all;
        }

        private static boolean hasPort(Service s, int port) {
            return s.entry().ports().stream().anyMatch(p -> p.number() == port);
        }

        /**
         * The port of {@code target} a destination without {@code destination.port} goes to from a virtual host
         * on {@code vhPort}: the target's only port, else the same port; null when that is ambiguous.
         */
        private static Integer implicitPort(Service target, int vhPort) {
            List<Port> ports = target.entry().ports();
            if (ports.size() == 1) {
                return ports.get(0).number();
            }
            return hasPort(target, vhPort) ? vhPort : null;
        }

        /** True when some match of {@code http} can apply on port {@code p}. */
        private static boolean appliesTo(Http http, Port p) {
            return http.matches().isEmpty()
                    || http.matches().stream().anyMatch(m -> m.port() == null || m.port().value() == p.number());
        }

        private static String ports(Service s) {
            return String.join(", ", s.entry().ports().stream().map(p -> String.valueOf(p.number())).toList());
        }

        private static boolean selects(Subset sub, Map<String, String> labels) {
            return labels.entrySet().containsAll(sub.labels().entrySet());
        }

        private static String labels(Map<String, String> labels) {
            StringBuilder b = new StringBuilder();
            labels.forEach((k, v) -> b.append(b.length() == 0 ? "" : ",").append(k).append('=').append(v));
            return b.toString();
        }


        // ------------------------------------------------------------ VirtualService

        private void virtualServices() {
            for (VirtualService vs : reader.virtualServices) {
                List<Service> routed = new ArrayList<>();
                for (Str h : vs.hosts()) {
                    List<Service> targets = new ArrayList<>();
                    if (h.value().startsWith("*")) {
                        String suffix = h.value().substring(1).toLowerCase(Locale.ROOT);
                        services.values().stream().filter(s -> s.host().endsWith(suffix)).forEach(targets::add);
                    } else {
                        Service s = lookup(h.value(), vs.meta().namespace());
                        if (s != null) {
                            targets.add(s);
                        }
                    }
                    if (targets.isEmpty()) {
                        diag.error(h.loc(), noService("VirtualService host", h));
                    }
                    routed.addAll(targets);
                    for (Service s : targets) {
                        VirtualService other = routing.putIfAbsent(s, vs);
                        if (other != null && other != vs) {
                            diag.error(h.loc(), "host '" + s.host() + "' is already routed by VirtualService '"
                                    + other.meta().name() + "' at " + other.loc());
                        }
                    }
                }
                for (Http http : vs.http()) {
                    checkDestinations(vs, http, routed);
                    for (Match m : http.matches()) {
                        if (m.port() == null) {
                            continue;
                        }
                        for (Str h : vs.hosts()) {
                            Service s = h.value().startsWith("*") ? null : lookup(h.value(), vs.meta().namespace());
                            if (s != null && !hasPort(s, m.port().value())) {
                                diag.error(m.port().loc(), "host '" + s.host() + "' has no port " + m.port().value()
                                        + " (it has " + ports(s) + "): this match can never apply");
                            }
                        }
                    }
                }
            }
        }

        private void checkDestinations(VirtualService vs, Http http, List<Service> routed) {
            int total = 0;
            boolean badWeight = false;
            for (Destination d : http.route()) {
                badWeight |= d.weight() != null && d.weight() < 0;
                total += d.weight() == null ? 0 : d.weight();
                Service s = lookup(d.host().value(), vs.meta().namespace());
                if (s == null) {
                    diag.error(d.host().loc(), noService("destination host", d.host()));
                    continue;
                }
                if (d.subset() != null) {
                    DestinationRule dr = rules.get(s);
                    List<String> defined = dr == null ? List.of() : dr.subsets().stream().map(x -> x.name().value()).toList();
                    if (!defined.contains(d.subset().value())) {
                        diag.error(d.subset().loc(), dr == null
                                ? "subset '" + d.subset().value() + "' is not defined: host '" + s.host()
                                        + "' has no DestinationRule"
                                : "subset '" + d.subset().value() + "' is not defined by the DestinationRule of host '"
                                        + s.host() + "' (it defines " + (defined.isEmpty() ? "none" : String.join(", ", defined))
                                        + ")" + Names.suggestion(d.subset().value(), defined));
                    }
                }
                if (d.port() == null) {
                    for (Service from : routed) {
                        for (Port p : from.entry().ports()) {
                            if (appliesTo(http, p) && implicitPort(s, p.number()) == null) {
                                diag.error(d.host().loc(), "host '" + s.host() + "' has several ports (" + ports(s)
                                        + "): set 'destination.port'");
                            }
                        }
                    }
                }
                if (d.port() != null && !hasPort(s, d.port().value())) {
                    diag.error(d.port().loc(), "host '" + s.host() + "' has no port " + d.port().value() + " (it has "
                            + ports(s) + ")");
                }
                if (http.route().size() > 1 && !(d.requestHeaders().isEmpty() && d.responseHeaders().isEmpty())) {
                    diag.error(d.loc(), "'headers' on one of several destinations is not supported yet: set them on the"
                            + " http route");
                }
            }
            if (http.route().size() > 1 && total != 100 && !badWeight) {
                diag.error(http.routeLoc(), "the weights of the destinations add up to " + total + ", not 100");
            }
            if (http.uriRewrite() != null) {
                for (Match m : http.matches()) {
                    if (m.match().path().kind() == PathMatch.Kind.REGEX) {
                        diag.error(http.uriRewrite().loc(), "'rewrite.uri' needs uri prefix or exact matches; a regex"
                                + " match has no prefix to replace (use 'uriRegexRewrite')");
                        break;
                    }
                }
            }
        }

        // ------------------------------------------------------------ clusters

        private void serviceClusters(Service s) {
            DestinationRule dr = rules.get(s);
            for (Port p : s.entry().ports()) {
                List<EndpointConfig> endpoints = endpoints(s, p);
                Policy base = dr == null ? Policy.NONE : dr.policy();
                cluster(s, clusterName(p.number(), null, s.host()), endpoints, p, base, Policy.NONE, s.entry().loc());
                if (dr != null) {
                    for (Subset sub : dr.subsets()) {
                        List<EndpointConfig> selected = endpoints.stream()
                                .filter(e -> selects(sub, e.labels())).toList();
                        cluster(s, clusterName(p.number(), sub.name().value(), s.host()), selected, p, base,
                                sub.policy(), sub.loc());
                    }
                }
            }
        }

        /**
         * One cluster's settings, merged as istiod merges a DestinationRule for a subset cluster on a port: the
         * rule's policy; replaced by its port-level entry for this port (whole: the entry's omitted parts take their
         * defaults); then each part the subset sets (loadBalancer, connectionPool, outlierDetection, each whole);
         * then the subset's own port-level entry, whole again.
         */
        private void cluster(Service s, String name, List<EndpointConfig> endpoints, Port port, Policy base,
                Policy subset, Loc at) {
            LbPolicy lb = base.lb();
            Pool pool = base.pool();
            OutlierDetection outlier = base.outlier();
            Tls tls = base.tls();
            PortPolicy pp = portPolicy(base, port);
            if (pp != null) {
                lb = pp.lb();
                pool = pp.pool();
                outlier = pp.outlier();
                tls = pp.tls();
            }
            lb = subset.lb() != null ? subset.lb() : lb;
            pool = subset.pool() != null ? subset.pool() : pool;
            outlier = subset.outlier() != null ? subset.outlier() : outlier;
            tls = subset.tls() != null ? subset.tls() : tls;
            PortPolicy sp = portPolicy(subset, port);
            if (sp != null) {
                lb = sp.lb();
                pool = sp.pool();
                outlier = sp.outlier();
                tls = sp.tls();
            }
            DestinationPolicy ext = extensions.get(s);
            ClusterConfig.Builder b = ClusterConfig.builder().name(name).protocol(port.protocol())
                    .lbPolicy(lb == null ? LbPolicy.ROUND_ROBIN : lb).outlierDetection(outlier);
            endpoints.forEach(b::endpoint);
            // Istio sets every threshold to 2^32-1 unless the connectionPool says otherwise.
            CircuitBreakers cb = CircuitBreakers.UNLIMITED;
            if (pool != null) {
                if (pool.connectTimeout() != null) {
                    b.connectTimeout(pool.connectTimeout());
                }
                if (pool.idleTimeout() != null) {
                    b.idleTimeout(pool.idleTimeout());
                }
                if (pool.h2Upgrade() && port.protocol() == UpstreamProtocol.HTTP1) {
                    b.protocol(UpstreamProtocol.HTTP2);
                }
                cb = pool.maxConnections() == null ? cb : cb.withMaxConnections(pool.maxConnections());
                cb = pool.http1MaxPendingRequests() == null ? cb : cb.withMaxPendingRequests(pool.http1MaxPendingRequests());
                cb = pool.http2MaxRequests() == null ? cb : cb.withMaxRequests(pool.http2MaxRequests());
                cb = pool.maxRetries() == null ? cb : cb.withMaxRetries(pool.maxRetries());
                int perConnection = pool.maxRequestsPerConnection() == null ? 0 : pool.maxRequestsPerConnection();
                int streams = pool.maxConcurrentStreams() == null ? 0 : pool.maxConcurrentStreams();
                Pool p = pool;
                ConnectionPoolConfig cp = build(at, () -> new ConnectionPoolConfig(perConnection, streams, p.tcpKeepalive()));
                if (cp != null) {
                    b.connectionPool(cp);
                }
            }
            if (ext != null) {
                if (ext.retryBudget() != null) {
                    cb = cb.withRetryBudget(ext.retryBudget());
                }
                b.failureRateBreaker(ext.circuitBreaker()).healthCheck(ext.healthCheck());
            }
            b.circuitBreakers(cb);
            if (tls != null && tls.value() != null) {
                UpstreamTls t = tls.value();
                List<String> entrySans = entrySubjectAltNames(s.entry(), t.mode());
                if (t.subjectAltNames().isEmpty() && !entrySans.isEmpty()) {
                    // Istio: the ServiceEntry's subjectAltNames (and, for ISTIO_MUTUAL, its endpoints' service
                    // accounts) verify its servers when the DestinationRule's tls names none.
                    t = new UpstreamTls(t.mode(), t.sni(), entrySans, t.caCertificates(),
                            t.clientCertificate(), t.privateKey());
                }
                if (t.mode() == UpstreamTls.Mode.ISTIO_MUTUAL && t.sni() == null) {
                    // istiod's SNI for ISTIO_MUTUAL: the cluster name with '_.' for '|' (outbound_.PORT_.SUBSET_.HOST).
                    t = new UpstreamTls(t.mode(), name.replace("|", "_."), t.subjectAltNames(), null, null, null);
                }
                b.tls(t);
            }
            ClusterConfig c = build(at, b::build);
            if (c != null) {
                clusters.add(c);
            }
        }

        private static PortPolicy portPolicy(Policy p, Port port) {
            for (PortPolicy pp : p.ports()) {
                if (pp.port().value() == port.number()) {
                    return pp;
                }
            }
            return null;
        }

        private List<EndpointConfig> endpoints(Service s, Port p) {
            List<EndpointConfig> out = new ArrayList<>();
            if (s.entry().endpoints().isEmpty()) {
                if (s.resolution().startsWith("DNS")) {
                    out.add(EndpointConfig.of(s.host(), p.target()));
                }
                return out;
            }
            for (Endpoint e : s.entry().endpoints()) {
                int portFinal = endpointPort(e, p);
                EndpointConfig ec = build(e.loc(), () -> EndpointConfig.builder().address(e.address().value())
                        .port(portFinal).weight(e.weight()).labels(e.labels()).build());
                if (ec != null) {
                    out.add(ec);
                }
            }
            return out;
        }

        /** The endpoint's own port for {@code p} (its {@code ports} map), else the target port, else the port. */
        private static int endpointPort(Endpoint e, Port p) {
            for (Map.Entry<Str, Obj.Int> ep : e.ports().entrySet()) {
                if (ep.getKey().value().equals(p.name().value())) {
                    return ep.getValue().value();
                }
            }
            return p.target();
        }

        static String clusterName(int port, String subset, String host) {
            return "outbound|" + port + "|" + (subset == null ? "" : subset) + "|" + host;
        }

        // ------------------------------------------------------------ routes

        private RouteConfiguration outboundRoutes() {
            List<VirtualHost> vhosts = new ArrayList<>();
            Set<String> taken = new HashSet<>(services.keySet());
            Set<String> portTaken = new HashSet<>();
            for (Service s : services.values()) {
                for (Port p : s.entry().ports()) {
                    portTaken.add(s.host() + ":" + p.number());
                }
            }
            for (Service s : services.values()) {
                List<String> aliases = new ArrayList<>();
                for (String a : aliases(s)) {
                    if (taken.add(a)) {
                        aliases.add(a);
                    }
                }
                Port defaultPort = defaultPort(s);
                for (Port p : s.entry().ports()) {
                    List<String> domains = new ArrayList<>();
                    if (p == defaultPort) {
                        domains.add(s.host());
                        domains.addAll(aliases);
                    }
                    domains.add(s.host() + ":" + p.number());
                    for (String a : aliases) {
                        if (portTaken.add(a + ":" + p.number())) {
                            domains.add(a + ":" + p.number());
                        }
                    }
                    // Empty when the VirtualService routes nothing on this port: the virtual host still claims
                    // host:port, so such a request gets 404 NR (as from Envoy) instead of another port's routes.
                    List<Route> routes = routes(s, p);
                    VirtualHost vh = build(s.entry().loc(), () -> VirtualHost.builder().name(s.host() + ":" + p.number())
                            .domains(domains).routes(routes).build());
                    if (vh != null) {
                        vhosts.add(vh);
                    }
                }
            }
            RouteConfiguration rc = build(new Loc("<routes>", 1, 1),
                    () -> RouteConfiguration.builder().name("outbound").virtualHosts(vhosts).build());
            return rc == null ? RouteConfiguration.builder().name("outbound").build() : rc;
        }

        /** The names Kubernetes DNS would also resolve for a cluster-local host, from the Proxy's namespace. */
        private List<String> aliases(Service s) {
            String suffix = ".svc.cluster.local";
            if (!s.host().endsWith(suffix)) {
                return List.of();
            }
            String[] parts = s.host().substring(0, s.host().length() - suffix.length()).split("\\.");
            if (parts.length != 2) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            if (parts[1].equals(namespace)) {
                out.add(parts[0]);
            }
            out.add(parts[0] + "." + parts[1]);
            out.add(parts[0] + "." + parts[1] + ".svc");
            return out;
        }

        private static Port defaultPort(Service s) {
            for (Port p : s.entry().ports()) {
                if (p.number() == 80) {
                    return p;
                }
            }
            return s.entry().ports().isEmpty() ? null : s.entry().ports().get(0);
        }

        private List<Route> routes(Service s, Port p) {
            VirtualService vs = routing.get(s);
            List<Route> out = new ArrayList<>();
            if (vs == null) {
                Route r = build(s.entry().loc(), () -> Route.builder().name("default")
                        .action(RouteAction.builder().cluster(clusterName(p.number(), null, s.host()))
                                .retryPolicy(RetryPolicy.ISTIO_DEFAULT).build()).build());
                if (r != null) {
                    out.add(r);
                }
                return out;
            }
            for (Http http : vs.http()) {
                List<RouteMatch> matches = new ArrayList<>();
                if (http.matches().isEmpty()) {
                    matches.add(RouteMatch.ANY);
                }
                for (Match m : http.matches()) {
                    if (m.port() == null || m.port().value() == p.number()) {
                        matches.add(m.match());
                    }
                }
                if (matches.isEmpty()) {
                    continue;
                }
                Action action = action(vs, http, p);
                if (action == null) {
                    continue;
                }
                HeaderMutation request = http.requestHeaders();
                HeaderMutation response = http.responseHeaders();
                if (http.route().size() == 1) {
                    request = merge(request, http.route().get(0).requestHeaders());
                    response = merge(response, http.route().get(0).responseHeaders());
                }
                for (RouteMatch m : matches) {
                    HeaderMutation req = request;
                    HeaderMutation resp = response;
                    Route r = build(http.loc(), () -> Route.builder().name(http.name()).match(m).action(action)
                            .requestHeaders(req).responseHeaders(resp).build());
                    if (r != null) {
                        out.add(r);
                    }
                }
            }
            return out;
        }

        private static HeaderMutation merge(HeaderMutation a, HeaderMutation b) {
            if (b.isEmpty()) {
                return a;
            }
            if (a.isEmpty()) {
                return b;
            }
            List<HeaderMutation.Header> set = new ArrayList<>(a.set());
            set.addAll(b.set());
            List<HeaderMutation.Header> add = new ArrayList<>(a.add());
            add.addAll(b.add());
            List<String> remove = new ArrayList<>(a.remove());
            remove.addAll(b.remove());
            return new HeaderMutation(set, add, remove);
        }

        private Action action(VirtualService vs, Http http, Port vhPort) {
            if (http.redirect() != null) {
                return http.redirect();
            }
            if (http.directResponse() != null) {
                return http.directResponse();
            }
            if (http.route().isEmpty()) {
                return null;
            }
            RouteAction.Builder b = RouteAction.builder();
            for (Destination d : http.route()) {
                Service target = lookup(d.host().value(), vs.meta().namespace());
                if (target == null) {
                    return null; // reported
                }
                Integer port = d.port() != null ? Integer.valueOf(d.port().value()) : implicitPort(target, vhPort.number());
                if (port == null) {
                    return null; // reported by checkDestinations
                }
                int weight = http.route().size() == 1 ? 1 : d.weight() == null ? 0 : Math.max(0, d.weight());
                b.weightedCluster(clusterName(port, d.subset() == null ? null : d.subset().value(), target.host()),
                        null, weight);
            }
            if (http.uriRewrite() != null) {
                b.prefixRewrite(http.uriRewrite().value());
            }
            if (http.regexRewrite() != null) {
                b.regexRewrite(http.regexRewrite());
            }
            if (http.authorityRewrite() != null) {
                b.hostRewrite(http.authorityRewrite());
            }
            if (http.timeout() != null) {
                b.timeout(http.timeout());
            }
            b.retryPolicy(http.retryPolicy()).fault(http.fault());
            Map<String, LocalRateLimit> limits = routeLimits.get(vs);
            if (limits != null) {
                LocalRateLimit own = http.name() == null ? null : limits.get(http.name());
                b.rateLimit(own != null ? own : limits.get(null));
            }
            return build(http.loc(), b::build);
        }

        private <T> T build(Loc at, Supplier<T> builder) {
            try {
                return builder.get();
            } catch (ConfigException e) {
                diag.error(at, e.getMessage());
                return null;
            }
        }
    }
}
