package io.meshproxy.config.internal;

import io.meshproxy.config.ConfigSource;
import io.meshproxy.config.IdentityFiles;
import io.meshproxy.config.internal.Obj.Int;
import io.meshproxy.config.internal.Obj.Str;
import io.meshproxy.config.internal.Resources.Admin;
import io.meshproxy.config.internal.Resources.Destination;
import io.meshproxy.config.internal.Resources.DestinationPolicy;
import io.meshproxy.config.internal.Resources.DestinationRule;
import io.meshproxy.config.internal.Resources.Endpoint;
import io.meshproxy.config.internal.Resources.Http;
import io.meshproxy.config.internal.Resources.Listener;
import io.meshproxy.config.internal.Resources.Match;
import io.meshproxy.config.internal.Resources.Meta;
import io.meshproxy.config.internal.Resources.PeerAuthentication;
import io.meshproxy.config.internal.Resources.Policy;
import io.meshproxy.config.internal.Resources.Port;
import io.meshproxy.config.internal.Resources.Pool;
import io.meshproxy.config.internal.Resources.PortPolicy;
import io.meshproxy.config.internal.Resources.RouteRateLimit;
import io.meshproxy.config.internal.Resources.ServiceEntry;
import io.meshproxy.config.internal.Resources.Subset;
import io.meshproxy.config.internal.Resources.TelemetryResource;
import io.meshproxy.config.internal.Resources.TelemetrySpec;
import io.meshproxy.config.internal.Resources.Tls;
import io.meshproxy.config.internal.Resources.VirtualService;
import io.meshproxy.config.internal.Resources.Workload;
import io.meshproxy.telemetry.TelemetryConfig;
import io.meshproxy.config.InboundSecurity;
import io.meshproxy.tls.authz.AuthorizationPolicy;
import io.meshproxy.tls.authz.Condition;
import io.meshproxy.tls.authz.JwksSource;
import io.meshproxy.tls.authz.JwtRule;
import io.meshproxy.tls.authz.Operation;
import io.meshproxy.tls.authz.Rule;
import io.meshproxy.tls.authz.Source;
import java.net.URI;
import java.net.URISyntaxException;
import io.meshproxy.core.config.ConfigException;
import io.meshproxy.core.config.FailureRateBreaker;
import io.meshproxy.core.config.FaultPolicy;
import io.meshproxy.core.config.HealthCheck;
import io.meshproxy.core.config.LocalRateLimit;
import io.meshproxy.core.config.OutlierDetection;
import io.meshproxy.core.config.RetryBudget;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.TcpKeepalive;
import io.meshproxy.core.config.DirectResponseAction;
import io.meshproxy.core.config.HeaderMatcher;
import io.meshproxy.core.config.HeaderMutation;
import io.meshproxy.core.config.LbPolicy;
import io.meshproxy.core.config.PathMatch;
import io.meshproxy.core.config.QueryParameterMatcher;
import io.meshproxy.core.config.RedirectAction;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.UpstreamTls;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * Reads YAML documents into {@link Resources}: one document a resource, each checked field by field against
 * its kind's schema. Fields that later work implements parse (so a typo in them is still caught) and are then
 * reported as not supported yet, by name.
 */
final class ResourceReader {
    static final String MESHPROXY_API = "meshproxy.io/v1alpha1";
    static final Set<String> NETWORKING_APIS = Set.of("networking.istio.io/v1", "networking.istio.io/v1beta1",
            "networking.istio.io/v1alpha3");
    static final Set<String> SECURITY_APIS = Set.of("security.istio.io/v1", "security.istio.io/v1beta1");
    static final Set<String> TELEMETRY_APIS = Set.of("telemetry.istio.io/v1", "telemetry.istio.io/v1alpha1");
    static final List<String> KINDS = List.of("Proxy", "ServiceEntry", "VirtualService", "DestinationRule",
            "PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication", "Telemetry");

    /** Istio kinds meshproxy knows of but does not implement (a gateway's, or the control plane's). */
    static final List<String> OTHER_ISTIO_KINDS = List.of("Gateway", "Sidecar", "WorkloadEntry", "WorkloadGroup",
            "EnvoyFilter", "ProxyConfig", "WasmPlugin");


    private final Diagnostics diag;
    final List<Resources.Proxy> proxies = new ArrayList<>();
    final List<ServiceEntry> serviceEntries = new ArrayList<>();
    final List<DestinationRule> destinationRules = new ArrayList<>();
    final List<VirtualService> virtualServices = new ArrayList<>();
    final List<TelemetryResource> telemetries = new ArrayList<>();
    final List<PeerAuthentication> peerAuthentications = new ArrayList<>();
    final List<Resources.AuthzPolicy> authorizationPolicies = new ArrayList<>();
    final List<Resources.RequestAuthn> requestAuthentications = new ArrayList<>();


    ResourceReader(Diagnostics diag) {
        this.diag = diag;
    }

    void read(ConfigSource source) {
        String file = source.name();
        LoadSettings settings = LoadSettings.builder().setLabel(file).setAllowDuplicateKeys(true)
                .setMaxAliasesForCollections(50).build();
        try {
            for (Node doc : new Compose(settings).composeAllFromString(source.text())) {
                if (doc == null || Obj.isNull(doc)) {
                    continue;
                }
                document(file, doc);
            }
        } catch (MarkedYamlEngineException e) {
            Mark m = e.getProblemMark().or(e::getContextMark).orElse(null);
            Loc at = m == null ? new Loc(file, 1, 1) : new Loc(file, m.getLine() + 1, m.getColumn() + 1);
            diag.error(at, "YAML syntax: " + e.getProblem().trim()
                    + (e.getContext() == null ? "" : " (" + e.getContext().trim() + ")"));
        } catch (YamlEngineException e) {
            diag.error(new Loc(file, 1, 1), "YAML: " + e.getMessage());
        } catch (StackOverflowError e) {
            // The composer recurses once per level; no resource is more than a dozen levels deep.
            diag.error(new Loc(file, 1, 1), "YAML nested too deeply to be a configuration");
        }
    }

    private void document(String file, Node doc) {
        Obj r = Obj.of(diag, file, doc, "a resource", "apiVersion", "kind", "metadata", "spec", "status");
        if (r == null) {
            return;
        }
        Str kind = r.requiredStr("kind");
        Str api = r.requiredStr("apiVersion");
        if (kind == null) {
            return;
        }
        Set<String> apis = switch (kind.value()) {
            case "Proxy" -> Set.of(MESHPROXY_API);
            case "ServiceEntry", "VirtualService", "DestinationRule" -> NETWORKING_APIS;
            case "PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication" -> SECURITY_APIS;
            case "Telemetry" -> TELEMETRY_APIS;
            default -> null;
        };
        if (apis == null) {
            if (OTHER_ISTIO_KINDS.contains(kind.value())) {
                diag.error(kind.loc(), "kind " + kind.value() + " is not supported: meshproxy reads "
                        + String.join(", ", KINDS));
                return;
            }
            List<String> all = new ArrayList<>(KINDS);
            all.addAll(OTHER_ISTIO_KINDS);
            diag.error(kind.loc(), "unknown kind '" + kind.value() + "'" + Names.suggestion(kind.value(), all)
                    + "; meshproxy reads " + String.join(", ", KINDS));
            return;
        }
        if (api != null && !apis.contains(api.value())) {
            diag.error(api.loc(), "apiVersion of " + kind.value() + " must be one of " + String.join(", ", apis.stream().sorted().toList())
                    + ", was '" + api.value() + "'");
        }
        Meta meta = meta(r);
        if (r.missing("spec")) {
            return;
        }
        switch (kind.value()) {
            case "Proxy" -> proxy(r, meta, kind.loc());
            case "ServiceEntry" -> serviceEntry(r, meta);
            case "VirtualService" -> virtualService(r, meta);
            case "DestinationRule" -> destinationRule(r, meta);
            case "Telemetry" -> telemetryResource(r, meta, kind.loc());
            default -> security(r, meta, kind);
        }
    }

    private Meta meta(Obj r) {
        if (r.missing("metadata")) {
            return new Meta(null, null, r.loc());
        }
        Obj m = r.obj("metadata", "name", "namespace", "labels", "annotations", "uid", "resourceVersion",
                "generation", "creationTimestamp", "managedFields", "ownerReferences", "finalizers");
        if (m == null) {
            return new Meta(null, null, r.loc());
        }
        Str name = m.requiredStr("name");
        Str ns = m.str("namespace");
        m.strMap("labels");
        m.strMap("annotations");
        return new Meta(name == null ? null : name.value(), ns == null ? null : ns.value(), m.loc());
    }

    // ---------------------------------------------------------------- Proxy

    private void proxy(Obj r, Meta meta, Loc kindLoc) {
        Obj spec = r.obj("spec", "admin", "listeners", "destinations", "localRateLimits", "workload", "telemetry",
                "identity");
        if (spec == null) {
            return;
        }
        Admin admin = null;
        Obj a = spec.obj("admin", "address", "port");
        if (a != null) {
            Str address = a.str("address");
            Int port = a.integer("port", 0, 65535);
            admin = new Admin(address == null ? "127.0.0.1" : address.value(), port);
        }
        List<Listener> listeners = new ArrayList<>();
        for (Obj l : spec.objs("listeners", "name", "address", "port", "direction", "forwardTo", "forwardProtocol",
                "localRateLimit", "streamIdleTimeout")) {
            Str name = l.requiredStr("name");
            Str address = l.str("address");
            Int port = l.missing("port") ? null : l.integer("port", 0, 65535);
            Str direction = l.missing("direction") ? null : l.oneOf("direction", List.of("OUTBOUND", "INBOUND"));
            Str forwardTo = l.str("forwardTo");
            Str protocol = l.oneOf("forwardProtocol", List.of("HTTP", "HTTP2"));
            String fwdHost = null;
            int fwdPort = 0;
            if (direction != null && direction.value().equals("INBOUND")) {
                if (forwardTo == null) {
                    l.missing("forwardTo");
                } else {
                    int colon = forwardTo.value().lastIndexOf(':');
                    int p = colon < 0 ? -1 : parsePort(forwardTo.value().substring(colon + 1));
                    fwdHost = colon <= 0 ? null : forwardTo.value().substring(0, colon).replaceAll("^\\[|]$", "");
                    if (p < 1 || fwdHost == null || fwdHost.isBlank()) {
                        diag.error(forwardTo.loc(), "'forwardTo' must be HOST:PORT with a port in 1..65535, was '"
                                + forwardTo.value() + "'");
                        fwdHost = null;
                    }
                    fwdPort = p;
                }
            } else if (direction != null && forwardTo != null) {
                diag.error(l.keyLoc("forwardTo"), "'forwardTo' is for INBOUND listeners; an OUTBOUND listener routes by Host");
            }
            if (direction != null && direction.value().equals("OUTBOUND") && protocol != null) {
                diag.error(l.keyLoc("forwardProtocol"), "'forwardProtocol' is for INBOUND listeners");
            }
            UpstreamProtocol proto = protocol != null && protocol.value().equals("HTTP2") ? UpstreamProtocol.HTTP2
                    : UpstreamProtocol.HTTP1;
            LocalRateLimit rateLimit = localRateLimit(l.obj("localRateLimit", RATE_LIMIT_FIELDS));
            Duration streamIdle = l.duration("streamIdleTimeout");
            listeners.add(new Listener(name, address == null ? "127.0.0.1" : address.value(), port,
                    direction == null ? null : direction.value(), direction == null ? l.loc() : direction.loc(),
                    forwardTo, fwdHost, fwdPort, proto, rateLimit, streamIdle, l.loc()));
        }
        List<DestinationPolicy> destinations = new ArrayList<>();
        for (Obj d : spec.objs("destinations", "host", "circuitBreaker", "healthCheck", "retryBudget")) {
            Str host = d.requiredStr("host");
            FailureRateBreaker breaker = circuitBreaker(d.obj("circuitBreaker", "failureRateThreshold",
                    "slowCallRateThreshold", "slowCallDuration", "slidingWindowSize", "minimumNumberOfCalls",
                    "waitInOpenState", "permittedCallsInHalfOpenState"));
            HealthCheck hc = healthCheck(d.obj("healthCheck", "path", "host", "interval", "timeout",
                    "healthyThreshold", "unhealthyThreshold"));
            RetryBudget budget = retryBudget(d.obj("retryBudget", "budgetPercent", "minRetryConcurrency"));
            if (host != null) {
                destinations.add(new DestinationPolicy(host, breaker, hc, budget, d.loc()));
            }
        }
        List<RouteRateLimit> routeLimits = new ArrayList<>();
        List<String> fields = new ArrayList<>(RATE_LIMIT_FIELDS);
        fields.add("virtualService");
        fields.add("route");
        for (Obj rl : spec.objs("localRateLimits", fields)) {
            Str vs = rl.requiredStr("virtualService");
            Str route = rl.str("route");
            LocalRateLimit limit = localRateLimit(rl);
            if (vs != null && limit != null) {
                routeLimits.add(new RouteRateLimit(vs, route, limit, rl.loc()));
            }
        }
        Workload workload = workload(spec.obj("workload", "name", "namespace", "app", "version", "serviceAccount",
                "labels"));
        TelemetrySpec telemetry = telemetry(spec.obj("telemetry", "metrics", "tracing", "accessLog"));
        IdentityFiles identity = identity(spec.obj("identity", "certificateChain", "privateKey", "trustBundle",
                "trustDomain"));
        proxies.add(new Resources.Proxy(meta, kindLoc, admin, listeners, destinations, routeLimits, workload, telemetry,
                identity, spec.keyLoc("identity")));
    }

    /**
     * {@code spec.identity}: three files, each resolved against the directory of the file it is written in and
     * required to exist (proxy-tls reads them); the trust domain, {@code cluster.local} unless written.
     */
    private IdentityFiles identity(Obj o) {
        if (o == null) {
            return null;
        }
        Path chain = existingFile(o, "certificateChain", true);
        Path key = existingFile(o, "privateKey", true);
        Path bundle = existingFile(o, "trustBundle", true);
        Str domain = nonBlank(o, "trustDomain");
        if (domain != null && !TRUST_DOMAIN.matcher(domain.value()).matches()) {
            diag.error(domain.loc(), "'trustDomain' must be a DNS-like name such as cluster.local (the authority of"
                    + " spiffe://TRUST_DOMAIN/ns/NS/sa/SA), was '" + domain.value() + "'");
            return null;
        }
        if (chain == null || key == null || bundle == null) {
            return null;
        }
        return new IdentityFiles(chain, key, bundle, domain == null ? null : domain.value());
    }

    /** Lower-case letters, digits, '.', '-' and '_': what a SPIFFE ID's trust domain may hold. */
    private static final java.util.regex.Pattern TRUST_DOMAIN = java.util.regex.Pattern.compile("[a-z0-9._-]+");

    /**
     * A file path: absolute, or relative to the directory of the file it is written in; it must name a regular
     * file. Null when absent or wrong (reported at the value).
     */
    private Path existingFile(Obj o, String field, boolean required) {
        Str s = required ? o.requiredStr(field) : nonBlank(o, field);
        if (s == null) {
            return null;
        }
        Path p;
        try {
            p = Path.of(s.value());
            if (!p.isAbsolute()) {
                Path source = Path.of(o.file()).toAbsolutePath().getParent();
                p = (source == null ? Path.of("").toAbsolutePath() : source).resolve(p);
            }
            p = p.normalize();
        } catch (InvalidPathException e) {
            diag.error(s.loc(), "'" + field + "' is not a file path: " + e.getReason());
            return null;
        }
        if (!Files.isRegularFile(p)) {
            diag.error(s.loc(), "'" + field + "': no such file " + p + (Files.isDirectory(p) ? " (a directory)" : ""));
            return null;
        }
        return p;
    }

    /**
     * {@code spec.workload}. {@code app} and {@code version} may come from the labels of those names instead
     * (Istio reads the same labels); written both ways, they must agree.
     */
    private Workload workload(Obj w) {
        if (w == null) {
            return Workload.NONE;
        }
        Str name = nonBlank(w, "name");
        Str namespace = nonBlank(w, "namespace");
        Str app = nonBlank(w, "app");
        Str version = nonBlank(w, "version");
        Str serviceAccount = nonBlank(w, "serviceAccount");
        Map<String, String> labels = w.strMap("labels");
        for (Map.Entry<Str, Node> e : w.entries("labels").entrySet()) {
            Str field = e.getKey().value().equals("app") ? app : e.getKey().value().equals("version") ? version : null;
            String label = labels.get(e.getKey().value());
            if (field != null && label != null && !label.equals(field.value())) {
                diag.error(e.getKey().loc(), "label '" + e.getKey().value() + "' is '" + label + "' but '"
                        + e.getKey().value() + "' is '" + field.value() + "' at " + field.loc() + ": write it once");
            }
        }
        return new Workload(name, namespace, app, version, serviceAccount, labels);
    }

    private Str nonBlank(Obj o, String field) {
        Str s = o.str(field);
        if (s != null && s.value().isBlank()) {
            diag.error(s.loc(), "'" + field + "' must not be empty");
            return null;
        }
        return s;
    }

    /** The most series, spans waiting for export, access-log lines waiting to be written: bounded, and the bound too. */
    static final int MAX_TELEMETRY_BOUND = 1_000_000;

    /** {@code spec.telemetry}: Istio's metrics, tracing and access logs of this proxy. */
    private TelemetrySpec telemetry(Obj t) {
        if (t == null) {
            return TelemetrySpec.NONE;
        }
        Boolean metricsEnabled = null;
        List<String> inclusions = List.of();
        List<String> exclusions = List.of();
        Integer maxSeries = null;
        Obj m = t.obj("metrics", "enabled", "inclusionRegexps", "exclusionRegexps", "maxSeries");
        if (m != null) {
            metricsEnabled = m.bool("enabled");
            inclusions = m.regexes("inclusionRegexps").stream().map(Str::value).toList();
            exclusions = m.regexes("exclusionRegexps").stream().map(Str::value).toList();
            Int max = m.integer("maxSeries", 1, MAX_TELEMETRY_BOUND);
            maxSeries = max == null ? null : max.value();
        }
        Double sampling = null;
        Loc tracingLoc = null;
        String endpoint = null;
        Integer maxQueuedSpans = null;
        String serviceName = null;
        Obj tr = t.obj("tracing", "samplingPercent", "zipkin", "maxQueuedSpans", "serviceName");
        if (tr != null) {
            tracingLoc = t.keyLoc("tracing");
            sampling = tr.number("samplingPercent", 0, 100);
            Obj z = tr.obj("zipkin", "endpoint");
            if (z != null) {
                Str e = z.requiredStr("endpoint");
                endpoint = e == null ? null : zipkinEndpoint(e);
            }
            Int max = tr.integer("maxQueuedSpans", 1, MAX_TELEMETRY_BOUND);
            maxQueuedSpans = max == null ? null : max.value();
            Str name = nonBlank(tr, "serviceName");
            serviceName = name == null ? null : name.value();
        }
        TelemetryConfig.AccessLog accessLog = null;
        Obj al = t.obj("accessLog", "path", "samplingPercent", "alwaysLogErrors", "queueSize");
        if (al != null) {
            Str path = nonBlank(al, "path");
            if (path != null && !path.value().startsWith("/")) {
                diag.error(path.loc(), "'path' must be an absolute file path or /dev/stdout, was '" + path.value() + "'");
            }
            Double pct = al.number("samplingPercent", 0, 100);
            Boolean errors = al.bool("alwaysLogErrors");
            Int queue = al.integer("queueSize", 1, MAX_TELEMETRY_BOUND);
            TelemetryConfig.AccessLog d = TelemetryConfig.AccessLog.DISABLED;
            accessLog = new TelemetryConfig.AccessLog(path == null ? STDOUT : path.value(),
                    pct == null ? d.samplingPercent() : pct, errors == null ? d.alwaysLogErrors() : errors,
                    queue == null ? d.queueSize() : queue.value());
        }
        return new TelemetrySpec(metricsEnabled, inclusions, exclusions, maxSeries, sampling, tracingLoc, endpoint,
                maxQueuedSpans, serviceName, accessLog);
    }

    /** Where access logs go when on and no path is written: standard output, as Istio's default provider. */
    static final String STDOUT = "/dev/stdout";

    /** An http or https URL with a host and a path (Zipkin's span API, usually /api/v2/spans); null after an error. */
    private String zipkinEndpoint(Str e) {
        String why = null;
        try {
            URI u = new URI(e.value());
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                why = "must be an http or https URL";
            } else if (u.getHost() == null || u.getHost().isEmpty()) {
                why = "must name a host";
            } else if (u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/")) {
                why = "needs the path of Zipkin's span API";
            }
        } catch (URISyntaxException x) {
            why = "must be an http or https URL (" + x.getReason() + ")";
        }
        if (why != null) {
            diag.error(e.loc(), "'endpoint' " + why + ", such as http://zipkin.istio-system:9411/api/v2/spans, was '"
                    + e.value() + "'");
            return null;
        }
        return e.value();
    }

    private static final List<String> RATE_LIMIT_FIELDS = List.of("maxTokens", "tokensPerFill", "fillInterval");

    /** Envoy's local_ratelimit token bucket; {@code tokensPerFill} defaults to {@code maxTokens}. */
    private LocalRateLimit localRateLimit(Obj o) {
        if (o == null) {
            return null;
        }
        Int max = o.missing("maxTokens") ? null : o.integer("maxTokens", 1, Integer.MAX_VALUE);
        Int perFill = o.integer("tokensPerFill", 1, Integer.MAX_VALUE);
        Duration fill = o.missing("fillInterval") ? null : o.duration("fillInterval");
        if (fill != null && fill.compareTo(Duration.ofMillis(1)) < 0) {
            o.error("fillInterval", "'fillInterval' must be at least 1ms, was '" + o.str("fillInterval").value() + "'");
            return null;
        }
        if (max == null || fill == null || (perFill == null && o.has("tokensPerFill"))) {
            return null;
        }
        long tokens = perFill == null ? max.value() : perFill.value();
        return build(o.loc(), () -> new LocalRateLimit(max.value(), tokens, fill));
    }

    /** The Resilience4j breaker of a destination; unset fields take {@link FailureRateBreaker}'s defaults. */
    private FailureRateBreaker circuitBreaker(Obj o) {
        if (o == null) {
            return null;
        }
        FailureRateBreaker.Builder b = FailureRateBreaker.builder();
        Double failure = positivePercent(o, "failureRateThreshold");
        Double slow = positivePercent(o, "slowCallRateThreshold");
        Duration slowDuration = o.positiveDuration("slowCallDuration");
        Int window = o.integer("slidingWindowSize", 1, Integer.MAX_VALUE);
        Int minimum = o.integer("minimumNumberOfCalls", 1, Integer.MAX_VALUE);
        Duration wait = o.positiveDuration("waitInOpenState");
        Int halfOpen = o.integer("permittedCallsInHalfOpenState", 1, Integer.MAX_VALUE);
        if (failure != null) {
            b.failureRateThreshold(failure.floatValue());
        }
        if (slow != null) {
            b.slowCallRateThreshold(slow.floatValue());
        }
        if (slowDuration != null) {
            b.slowCallDuration(slowDuration);
        }
        if (window != null) {
            b.slidingWindowSize(window.value());
        }
        if (minimum != null) {
            b.minimumNumberOfCalls(minimum.value());
        }
        if (wait != null) {
            b.waitInOpenState(wait);
        }
        if (halfOpen != null) {
            b.permittedCallsInHalfOpenState(halfOpen.value());
        }
        return build(o.loc(), b::build);
    }

    private static Double positivePercent(Obj o, String field) {
        Double d = o.number(field, 0, 100);
        if (d != null && d == 0) {
            o.error(field, "'" + field + "' must be more than 0 and at most 100, was 0");
            return null;
        }
        return d;
    }

    /** Active HTTP health checking of a destination; unset fields take {@link HealthCheck}'s defaults. */
    private HealthCheck healthCheck(Obj o) {
        if (o == null) {
            return null;
        }
        Str path = o.str("path");
        if (path != null && !path.value().startsWith("/")) {
            diag.error(path.loc(), "'path' must start with '/', was '" + path.value() + "'");
            path = null;
        }
        Str host = o.str("host");
        Duration interval = o.positiveDuration("interval");
        Duration timeout = o.positiveDuration("timeout");
        Int healthy = o.integer("healthyThreshold", 1, Integer.MAX_VALUE);
        Int unhealthy = o.integer("unhealthyThreshold", 1, Integer.MAX_VALUE);
        String p = path == null ? null : path.value();
        return build(o.loc(), () -> new HealthCheck(p, host == null || host.value().isBlank() ? null : host.value(),
                interval, timeout, healthy == null ? 1 : healthy.value(), unhealthy == null ? 3 : unhealthy.value()));
    }

    /** Envoy's retry budget of a destination; unset fields take Envoy's defaults (20%, 3). */
    private RetryBudget retryBudget(Obj o) {
        if (o == null) {
            return null;
        }
        Double percent = o.number("budgetPercent", 0, 100);
        Int min = o.integer("minRetryConcurrency", 0, Integer.MAX_VALUE);
        return new RetryBudget(percent == null ? RetryBudget.DEFAULT.budgetPercent() : percent,
                min == null ? RetryBudget.DEFAULT.minRetryConcurrency() : min.value());
    }

    private static int parsePort(String s) {
        if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        int p = Integer.parseInt(s);
        return p <= 65535 ? p : -1;
    }

    // ---------------------------------------------------------------- ServiceEntry

    private void serviceEntry(Obj r, Meta meta) {
        Obj spec = r.obj("spec", "hosts", "addresses", "ports", "location", "resolution", "endpoints",
                "workloadSelector", "exportTo", "subjectAltNames");
        if (spec == null) {
            return;
        }
        if (spec.missing("hosts")) {
            return;
        }
        List<Str> hosts = spec.strs("hosts");
        for (Str h : hosts) {
            if (h.value().contains("*")) {
                diag.error(h.loc(), "wildcard hosts in a ServiceEntry are not supported yet: name each host");
            }
        }
        // Virtual IPs select a service by destination address, which matters for TCP; HTTP is routed by Host
        // (as Envoy's HTTP route tables do for Istio), so they are checked and change nothing here.
        for (Str a : spec.strs("addresses")) {
            String ip = a.value().contains("/") ? a.value().substring(0, a.value().indexOf('/')) : a.value();
            String bits = a.value().contains("/") ? a.value().substring(a.value().indexOf('/') + 1) : "0";
            if (!isIp(ip) || bits.isEmpty() || !bits.chars().allMatch(Character::isDigit) || bits.length() > 3
                    || Integer.parseInt(bits) > (ip.contains(":") ? 128 : 32)) {
                diag.error(a.loc(), "an entry of 'addresses' must be an IP address or CIDR block, was '" + a.value() + "'");
            }
        }
        spec.unsupported("workloadSelector", "list the endpoints instead");
        // Istio verifies the server of ISTIO_MUTUAL (and of SIMPLE/MUTUAL without their own) against these.
        List<String> sans = new ArrayList<>();
        for (Str san : spec.strs("subjectAltNames")) {
            if (san.value().isBlank()) {
                diag.error(san.loc(), "an entry of 'subjectAltNames' must not be empty");
            } else {
                sans.add(san.value());
            }
        }
        spec.strs("exportTo");
        spec.oneOf("location", List.of("MESH_EXTERNAL", "MESH_INTERNAL"));
        List<Port> ports = new ArrayList<>();
        if (!spec.missing("ports")) {
            if (spec.raw("ports") instanceof org.snakeyaml.engine.v2.nodes.SequenceNode seq && seq.getValue().isEmpty()) {
                diag.error(spec.valueLoc("ports"), "'ports' must name at least one port, as Istio requires");
            }
            for (Obj p : spec.objs("ports", "number", "protocol", "name", "targetPort")) {
                Int number = p.missing("number") ? null : p.integer("number", 1, 65535);
                Str name = p.requiredStr("name");
                Str protocol = p.missing("protocol") ? null
                        : p.oneOf("protocol", List.of("HTTP", "HTTP2", "GRPC", "HTTPS", "TLS", "TCP", "MONGO", "REDIS", "MYSQL"));
                Int target = p.integer("targetPort", 1, 65535);
                UpstreamProtocol proto = null;
                if (protocol != null) {
                    switch (protocol.value()) {
                        case "HTTP" -> proto = UpstreamProtocol.HTTP1;
                        case "HTTP2", "GRPC" -> proto = UpstreamProtocol.HTTP2;
                        default -> diag.error(protocol.loc(), "protocol " + protocol.value()
                                + " is not supported yet: meshproxy proxies HTTP, HTTP2 and GRPC");
                    }
                }
                if (number != null && name != null && proto != null) {
                    ports.add(new Port(number.value(), name, proto, target == null ? null : target.value(), p.loc()));
                }
            }
        }
        Str resolution = spec.oneOf("resolution", List.of("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"));
        if (resolution != null && resolution.value().equals("NONE")) {
            diag.error(resolution.loc(), "resolution NONE (forward to the original destination) is not supported: "
                    + "meshproxy has no original destination to forward to; use STATIC or DNS");
        }
        List<Endpoint> endpoints = new ArrayList<>();
        java.util.Set<String> serviceAccounts = new java.util.LinkedHashSet<>();
        for (Obj e : spec.objs("endpoints", "address", "ports", "labels", "network", "locality", "weight",
                "serviceAccount")) {
            Str address = e.requiredStr("address");
            Map<Str, Int> epPorts = new LinkedHashMap<>();
            for (Map.Entry<Str, Node> pe : e.entries("ports").entrySet()) {
                Node v = pe.getValue();
                if (v instanceof ScalarNode s && s.getTag().equals(org.snakeyaml.engine.v2.nodes.Tag.INT)
                        && parsePort(s.getValue()) >= 1) {
                    epPorts.put(pe.getKey(), new Int(Integer.parseInt(s.getValue()), Loc.of(r.file(), v)));
                } else {
                    diag.error(Loc.of(r.file(), v), "the port of '" + pe.getKey().value()
                            + "' must be an integer in 1..65535, got " + Obj.describe(v));
                }
            }
            Map<String, String> labels = e.strMap("labels");
            Int weight = e.integer("weight", 1, io.meshproxy.core.config.EndpointConfig.MAX_WEIGHT);
            e.str("network");
            e.str("locality");
            Str serviceAccount = e.str("serviceAccount");
            if (serviceAccount != null) {
                if (serviceAccount.value().isBlank() || serviceAccount.value().contains("/")) {
                    diag.error(serviceAccount.loc(), "'serviceAccount' must be a service account name (no '/'), was '"
                            + serviceAccount.value() + "'");
                } else {
                    serviceAccounts.add(serviceAccount.value());
                }
            }
            if (address != null) {
                endpoints.add(new Endpoint(address, epPorts, labels, weight == null ? 1 : weight.value(), e.loc()));
            }
        }
        if (resolution != null && resolution.value().equals("STATIC")) {
            if (endpoints.isEmpty()) {
                diag.error(spec.keyLoc("resolution"), "resolution STATIC needs at least one endpoint in 'endpoints'");
            }
            for (Endpoint e : endpoints) {
                if (!isIp(e.address().value())) {
                    diag.error(e.address().loc(), "with resolution STATIC an endpoint address must be an IP address, was '"
                            + e.address().value() + "' (use resolution DNS for host names)");
                }
            }
        }
        serviceEntries.add(new ServiceEntry(meta, hosts, ports, resolution == null ? null : resolution.value(),
                spec.valueLoc("resolution"), endpoints, sans, List.copyOf(serviceAccounts), r.loc()));
    }

    static boolean isIp(String s) {
        if (s.contains(":")) {
            return s.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.') && s.indexOf(':') != s.lastIndexOf(':');
        }
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- DestinationRule

    private static final List<String> POLICY_FIELDS = List.of("loadBalancer", "connectionPool", "outlierDetection",
            "tls", "portLevelSettings", "tunnel", "proxyProtocol", "retryBudget");

    private void destinationRule(Obj r, Meta meta) {
        Obj spec = r.obj("spec", "host", "trafficPolicy", "subsets", "exportTo", "workloadSelector");
        if (spec == null) {
            return;
        }
        Str host = spec.requiredStr("host");
        spec.strs("exportTo");
        spec.unsupported("workloadSelector", "a DestinationRule here applies to the whole proxy");
        Policy policy = policy(spec.obj("trafficPolicy", POLICY_FIELDS), true);
        List<Subset> subsets = new ArrayList<>();
        for (Obj s : spec.objs("subsets", "name", "labels", "trafficPolicy")) {
            Str name = s.requiredStr("name");
            Map<String, String> labels = s.missing("labels") ? Map.of() : s.strMap("labels");
            Policy sp = policy(s.obj("trafficPolicy", POLICY_FIELDS), true);
            if (name != null) {
                subsets.add(new Subset(name, labels, s.valueLoc("labels"), sp, s.loc()));
            }
        }
        destinationRules.add(new DestinationRule(meta, host, policy, subsets, r.loc()));
    }

    private Policy policy(Obj p, boolean allowPortLevel) {
        if (p == null) {
            return Policy.NONE;
        }
        LbPolicy lb = loadBalancer(p.obj("loadBalancer", "simple", "consistentHash", "localityLbSetting",
                "warmupDurationSecs", "warmup"));
        Pool pool = connectionPool(p.obj("connectionPool", "tcp", "http"));
        OutlierDetection outlier = outlierDetection(p.obj("outlierDetection", OUTLIER_FIELDS));
        Tls tls = tls(p.obj("tls", TLS_FIELDS));
        p.unsupported("tunnel", null);
        p.unsupported("proxyProtocol", null);
        p.unsupported("retryBudget", "use the meshproxy extension 'destinations[].retryBudget' of the Proxy");
        List<PortPolicy> ports = new ArrayList<>();
        if (p.has("portLevelSettings") && !allowPortLevel) {
            p.error("portLevelSettings", "'portLevelSettings' is not allowed here");
        }
        for (Obj pl : p.objs("portLevelSettings", "port", "loadBalancer", "connectionPool", "outlierDetection", "tls")) {
            Obj port = pl.missing("port") ? null : pl.obj("port", "number");
            Int number = port == null ? null : port.missing("number") ? null : port.integer("number", 1, 65535);
            LbPolicy plb = loadBalancer(pl.obj("loadBalancer", "simple", "consistentHash", "localityLbSetting",
                    "warmupDurationSecs", "warmup"));
            Pool ppool = connectionPool(pl.obj("connectionPool", "tcp", "http"));
            OutlierDetection pout = outlierDetection(pl.obj("outlierDetection", OUTLIER_FIELDS));
            Tls ptls = tls(pl.obj("tls", TLS_FIELDS));
            if (number != null) {
                ports.add(new PortPolicy(number, plb, ppool, pout, ptls));
            }
        }
        return new Policy(lb, pool, outlier, tls, ports);
    }

    private static final List<String> OUTLIER_FIELDS = List.of("splitExternalLocalOriginErrors",
            "consecutiveLocalOriginFailures", "consecutiveGatewayErrors", "consecutive5xxErrors",
            "consecutiveErrors", "interval", "baseEjectionTime", "maxEjectionPercent", "minHealthPercent");
    private static final List<String> TLS_FIELDS = List.of("mode", "clientCertificate", "privateKey",
            "caCertificates", "credentialName", "subjectAltNames", "sni", "insecureSkipVerify", "caCrl");

    /**
     * Istio's outlierDetection as istiod gives it to Envoy: unset counts keep Envoy's defaults (5 consecutive 5xx,
     * gateway errors off); {@code maxEjectionPercent: 0} is Istio's "not set" (10); the deprecated
     * {@code consecutiveErrors} counts gateway errors only (502, 503, 504) and turns the 5xx detector off.
     */
    private OutlierDetection outlierDetection(Obj o) {
        if (o == null) {
            return null;
        }
        OutlierDetection.Builder b = OutlierDetection.builder();
        Boolean split = o.bool("splitExternalLocalOriginErrors");
        Int local = o.integer("consecutiveLocalOriginFailures", 0, Integer.MAX_VALUE);
        Int gateway = o.integer("consecutiveGatewayErrors", 0, Integer.MAX_VALUE);
        Int fiveXx = o.integer("consecutive5xxErrors", 0, Integer.MAX_VALUE);
        Int legacy = o.integer("consecutiveErrors", 0, Integer.MAX_VALUE);
        Duration interval = o.positiveDuration("interval");
        Duration base = o.positiveDuration("baseEjectionTime");
        Int maxEject = o.integer("maxEjectionPercent", 0, 100);
        Int minHealth = o.integer("minHealthPercent", 0, 100);
        if (legacy != null) {
            if (o.has("consecutiveGatewayErrors") || o.has("consecutive5xxErrors")) {
                diag.error(o.keyLoc("consecutiveErrors"), "'consecutiveErrors' is deprecated and cannot be combined"
                        + " with 'consecutiveGatewayErrors' or 'consecutive5xxErrors': remove it");
            } else {
                diag.warning(o.keyLoc("consecutiveErrors"), "'consecutiveErrors' is deprecated: it counts 502, 503"
                        + " and 504 only; write 'consecutiveGatewayErrors: " + legacy.value() + "' instead");
                if (legacy.value() > 0) {
                    b.consecutiveGatewayErrors(legacy.value()).consecutive5xxErrors(0);
                }
            }
        }
        if (split != null) {
            b.splitExternalLocalOriginErrors(split);
        }
        if (local != null) {
            b.consecutiveLocalOriginFailures(local.value());
        }
        if (gateway != null) {
            b.consecutiveGatewayErrors(gateway.value());
        }
        if (fiveXx != null) {
            b.consecutive5xxErrors(fiveXx.value());
        }
        if (interval != null) {
            b.interval(interval);
        }
        if (base != null) {
            b.baseEjectionTime(base);
        }
        if (maxEject != null && maxEject.value() > 0) {
            b.maxEjectionPercent(maxEject.value());
        }
        if (minHealth != null) {
            b.minHealthPercent(minHealth.value());
        }
        return build(o.loc(), b::build);
    }

    /**
     * Istio's ClientTLSSettings. No mode is DISABLE, as in Istio. Files are resolved as {@code spec.identity}'s
     * are; ISTIO_MUTUAL takes the workload identity, so certificate files beside it are an error (as istiod's
     * validation says); MUTUAL needs a client certificate and its key. {@code credentialName} (a Kubernetes
     * Secret), {@code insecureSkipVerify} and {@code caCrl} are read and reported as not supported.
     */
    private Tls tls(Obj t) {
        if (t == null) {
            return null;
        }
        Str mode = t.oneOf("mode", List.of("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"));
        Str sni = nonBlank(t, "sni");
        List<String> sans = t.strs("subjectAltNames").stream().map(Str::value).toList();
        Str credential = t.str("credentialName");
        if (t.has("credentialName")) {
            diag.error(t.keyLoc("credentialName"), "'credentialName' is not supported: it names a Kubernetes Secret,"
                    + " which meshproxy cannot read; write 'clientCertificate', 'privateKey' and 'caCertificates'");
        }
        t.bool("insecureSkipVerify");
        if (t.has("insecureSkipVerify")) {
            diag.error(t.keyLoc("insecureSkipVerify"), "'insecureSkipVerify' is not supported: meshproxy always"
                    + " verifies the server's certificate");
        }
        t.str("caCrl");
        t.unsupported("caCrl", null);
        if (mode != null && mode.value().equals("ISTIO_MUTUAL")) {
            for (String f : List.of("caCertificates", "clientCertificate", "privateKey")) {
                if (t.has(f)) {
                    diag.error(t.keyLoc(f), "'" + f + "' cannot be set with mode ISTIO_MUTUAL, which uses the"
                            + " workload identity (spec.identity of the Proxy); use MUTUAL for certificates of your own");
                }
            }
            if (t.fields().stream().anyMatch(List.of("caCertificates", "clientCertificate", "privateKey")::contains)) {
                return null;
            }
        }
        Path ca = existingFile(t, "caCertificates", false);
        Path cert = existingFile(t, "clientCertificate", false);
        Path key = existingFile(t, "privateKey", false);
        Loc modeLoc = t.has("mode") ? t.valueLoc("mode") : t.loc();
        if (mode != null && mode.value().equals("MUTUAL")
                && (!t.has("clientCertificate") || !t.has("privateKey"))) {
            List<String> missing = new ArrayList<>();
            for (String f : List.of("clientCertificate", "privateKey")) {
                if (!t.has(f)) {
                    missing.add("'" + f + "'");
                }
            }
            diag.error(modeLoc, "mode MUTUAL needs " + String.join(" and ", missing)
                    + " (the client certificate presented to the server and its key)");
            return null;
        }
        if (mode == null && t.has("mode") || credential != null
                || (t.has("caCertificates") && ca == null) || (t.has("clientCertificate") && cert == null)
                || (t.has("privateKey") && key == null) || (t.has("sni") && sni == null)) {
            return null; // reported
        }
        if (mode == null || mode.value().equals("DISABLE")) {
            return new Tls(null, modeLoc);
        }
        UpstreamTls.Mode m = UpstreamTls.Mode.valueOf(mode.value());
        UpstreamTls value = build(t.loc(), () -> new UpstreamTls(m, sni == null ? null : sni.value(), sans,
                ca == null ? null : ca.toString(), cert == null ? null : cert.toString(),
                key == null ? null : key.toString()));
        return value == null ? null : new Tls(value, modeLoc);
    }

    private LbPolicy loadBalancer(Obj lb) {
        if (lb == null) {
            return null;
        }
        Obj hash = lb.obj("consistentHash", "httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName",
                "ringHash", "maglev", "minimumRingSize");
        if (hash != null) {
            hash.str("httpHeaderName");
            hash.str("httpQueryParameterName");
            hash.bool("useSourceIp");
            hash.obj("httpCookie", "name", "path", "ttl", "attributes");
        }
        lb.unsupported("consistentHash", "comes with hash-based load balancing");
        lb.unsupported("localityLbSetting", "comes with locality-aware load balancing");
        lb.unsupported("warmupDurationSecs", "comes with slow start");
        lb.unsupported("warmup", "comes with slow start");
        Str simple = lb.oneOf("simple", List.of("UNSPECIFIED", "ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN", "RANDOM",
                "PASSTHROUGH"));
        if (simple == null) {
            return null;
        }
        return switch (simple.value()) {
            case "LEAST_REQUEST", "LEAST_CONN" -> LbPolicy.LEAST_REQUEST;
            case "RANDOM" -> LbPolicy.RANDOM;
            case "PASSTHROUGH" -> {
                diag.error(simple.loc(), "loadBalancer PASSTHROUGH is not supported: meshproxy has no original destination");
                yield null;
            }
            default -> LbPolicy.ROUND_ROBIN;
        };
    }

    /** Istio's connectionPool as written; see {@link Pool}. */
    private Pool connectionPool(Obj cp) {
        if (cp == null) {
            return null;
        }
        Duration connectTimeout = null;
        Integer maxConnections = null;
        TcpKeepalive keepalive = null;
        Obj tcp = cp.obj("tcp", "maxConnections", "connectTimeout", "tcpKeepalive", "maxConnectionDuration",
                "idleTimeout");
        if (tcp != null) {
            connectTimeout = tcp.positiveDuration("connectTimeout");
            maxConnections = positiveOrUnset(tcp, "maxConnections");
            Obj ka = tcp.obj("tcpKeepalive", "probes", "time", "interval");
            if (ka != null) {
                Int probes = ka.integer("probes", 0, Integer.MAX_VALUE);
                Duration time = ka.duration("time");
                Duration interval = ka.duration("interval");
                keepalive = build(ka.loc(), () -> new TcpKeepalive(time, interval, probes == null ? 0 : probes.value()));
            }
            tcp.duration("maxConnectionDuration");
            tcp.unsupported("maxConnectionDuration", "meshproxy does not bound a connection's lifetime; "
                    + "'http.maxRequestsPerConnection' bounds its use");
            tcp.duration("idleTimeout");
            tcp.unsupported("idleTimeout", "it applies to TCP proxying; use http.idleTimeout");
        }
        Integer pending = null;
        Integer requests = null;
        Integer perConnection = null;
        Integer retries = null;
        Integer streams = null;
        Duration idleTimeout = null;
        boolean upgrade = false;
        Obj http = cp.obj("http", "http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection",
                "maxRetries", "idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams");
        if (http != null) {
            idleTimeout = http.duration("idleTimeout");
            pending = positiveOrUnset(http, "http1MaxPendingRequests");
            requests = positiveOrUnset(http, "http2MaxRequests");
            perConnection = positiveOrUnset(http, "maxRequestsPerConnection");
            retries = positiveOrUnset(http, "maxRetries");
            streams = positiveOrUnset(http, "maxConcurrentStreams");
            Str h2 = http.oneOf("h2UpgradePolicy", List.of("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"));
            upgrade = h2 != null && h2.value().equals("UPGRADE");
            http.bool("useClientProtocol");
            http.unsupported("useClientProtocol", null);
        }
        return new Pool(connectTimeout, maxConnections, keepalive, pending, requests, perConnection, retries,
                idleTimeout, upgrade, streams);
    }

    /** An Istio count where 0 means "not set": null for 0 or absent. */
    private static Integer positiveOrUnset(Obj o, String field) {
        Int v = o.integer(field, 0, Integer.MAX_VALUE);
        return v == null || v.value() == 0 ? null : v.value();
    }

    // ---------------------------------------------------------------- VirtualService

    private static final List<String> HTTP_FIELDS = List.of("name", "match", "route", "redirect", "directResponse",
            "delegate", "rewrite", "timeout", "retries", "fault", "mirror", "mirrors", "mirrorPercentage",
            "mirrorPercent", "corsPolicy", "headers");
    private static final List<String> MATCH_FIELDS = List.of("name", "uri", "scheme", "method", "authority",
            "headers", "port", "sourceLabels", "gateways", "queryParams", "ignoreUriCase", "withoutHeaders",
            "sourceNamespace", "statPrefix");

    private void virtualService(Obj r, Meta meta) {
        Obj spec = r.obj("spec", "hosts", "gateways", "http", "tls", "tcp", "exportTo");
        if (spec == null) {
            return;
        }
        List<Str> hosts = spec.missing("hosts") ? List.of() : spec.strs("hosts");
        for (Str g : spec.strs("gateways")) {
            if (!g.value().equals("mesh")) {
                diag.error(g.loc(), "gateway '" + g.value() + "' is not supported: meshproxy is a sidecar, only 'mesh' applies");
            }
        }
        spec.strs("exportTo");
        spec.unsupported("tls", "comes with TLS routing");
        spec.unsupported("tcp", "comes with TCP routing");
        List<Http> http = new ArrayList<>();
        for (Obj h : spec.objs("http", HTTP_FIELDS)) {
            Http read = http(h);
            if (read != null) {
                http.add(read);
            }
        }
        if (!spec.has("http") && !spec.has("tcp") && !spec.has("tls")) {
            diag.error(spec.loc(), "a VirtualService needs 'http' routes");
        }
        virtualServices.add(new VirtualService(meta, hosts, http, r.loc()));
    }

    private Http http(Obj h) {
        Str name = h.str("name");
        List<Match> matches = new ArrayList<>();
        for (Obj m : h.objs("match", MATCH_FIELDS)) {
            Match match = match(m);
            if (match != null) {
                matches.add(match);
            }
        }
        List<Destination> route = new ArrayList<>();
        for (Obj d : h.objs("route", "destination", "weight", "headers")) {
            Destination dest = destination(d);
            if (dest != null) {
                route.add(dest);
            }
        }
        Duration timeout = h.duration("timeout");
        RetryPolicy retryPolicy = h.has("retries")
                ? retries(h.obj("retries", "attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities", "backoff",
                        "retryIgnorePreviousHosts"))
                : RetryPolicy.ISTIO_DEFAULT;
        FaultPolicy fault = fault(h.obj("fault", "delay", "abort"));
        h.unsupported("mirror", "comes with traffic mirroring");
        h.unsupported("mirrors", "comes with traffic mirroring");
        h.unsupported("mirrorPercentage", "comes with traffic mirroring");
        h.unsupported("mirrorPercent", "comes with traffic mirroring");
        h.unsupported("corsPolicy", "comes with a CORS filter");
        h.unsupported("delegate", "comes with VirtualService delegation");
        // Parse what is unsupported anyway, so a typo inside it is reported too.
        Obj mirror = h.obj("mirror", "host", "subset", "port");
        if (mirror != null) {
            mirror.requiredStr("host");
            mirror.str("subset");
        }
        Obj mirrorPercentage = h.obj("mirrorPercentage", "value");
        if (mirrorPercentage != null && mirrorPercentage.raw("value") != null
                && !(mirrorPercentage.raw("value") instanceof ScalarNode)) {
            mirrorPercentage.error("value", "'value' must be a number");
        }
        h.objs("mirrors", "destination", "percentage");
        Obj cors = h.obj("corsPolicy", "allowOrigins", "allowOrigin", "allowMethods", "allowHeaders", "exposeHeaders",
                "maxAge", "allowCredentials", "unmatchedPreflights");
        if (cors != null) {
            cors.strs("allowMethods");
            cors.strs("allowHeaders");
            cors.strs("exposeHeaders");
            cors.duration("maxAge");
            cors.bool("allowCredentials");
        }

        Str uriRewrite = null;
        String authorityRewrite = null;
        RouteAction.RegexRewrite regexRewrite = null;
        Obj rw = h.obj("rewrite", "uri", "authority", "uriRegexRewrite");
        if (rw != null) {
            uriRewrite = rw.str("uri");
            Str auth = rw.str("authority");
            authorityRewrite = auth == null ? null : auth.value();
            Obj rr = rw.obj("uriRegexRewrite", "match", "rewrite");
            if (rr != null) {
                Str pattern = rr.missing("match") ? null : rr.regex("match");
                Str sub = rr.missing("rewrite") ? null : rr.str("rewrite");
                if (pattern != null && sub != null) {
                    // RE2 / Envoy write groups as \1; java.util.regex as $1.
                    String javaSub = sub.value().replace("$", "\\$").replaceAll("\\\\(\\d)", "\\$$1");
                    regexRewrite = new RouteAction.RegexRewrite(pattern.value(), javaSub);
                }
            }
            if (uriRewrite != null && regexRewrite != null) {
                diag.error(rw.keyLoc("uriRegexRewrite"), "'uri' and 'uriRegexRewrite' cannot both be set");
            }
        }
        RedirectAction redirect = redirect(h.obj("redirect", "uri", "authority", "port", "derivePort", "scheme",
                "redirectCode"));
        DirectResponseAction direct = directResponse(h.obj("directResponse", "status", "body"));
        HeaderMutation[] headers = headers(h.obj("headers", "request", "response"));

        int actions = (h.has("route") ? 1 : 0) + (h.has("redirect") ? 1 : 0) + (h.has("directResponse") ? 1 : 0)
                + (h.has("delegate") ? 1 : 0);
        if (actions == 0) {
            diag.error(h.loc(), "an http route needs one of 'route', 'redirect' or 'directResponse'");
        } else if (actions > 1) {
            diag.error(h.loc(), "an http route takes only one of 'route', 'redirect' and 'directResponse'");
        }
        if (rw != null && !h.has("route")) {
            diag.error(h.keyLoc("rewrite"), "'rewrite' applies to 'route' only");
        }
        for (String f : List.of("timeout", "retries", "fault")) {
            if (h.has(f) && !h.has("route")) {
                diag.error(h.keyLoc(f), "'" + f + "' applies to 'route' only");
            }
        }
        if (h.raw("route") instanceof org.snakeyaml.engine.v2.nodes.SequenceNode seq && seq.getValue().isEmpty()) {
            diag.error(h.valueLoc("route"), "'route' must name at least one destination");
        }
        return new Http(name == null ? null : name.value(), matches, route, h.keyLoc("route"), uriRewrite,
                authorityRewrite, regexRewrite, redirect, direct, headers[0], headers[1], timeout, retryPolicy, fault, h.loc());
    }

    /** Envoy's retry_on tokens Istio accepts that meshproxy does not implement. */
    private static final List<String> UNSUPPORTED_RETRY_ON = List.of("envoy-ratelimited", "retriable-headers",
            "reset-before-request", "http3-post-connect-failure");

    /**
     * Istio's {@code retries} as istiod converts it: {@code attempts} 0 (or absent) turns retries off; otherwise
     * Istio's default policy with the attempts, and {@code retryOn} (when written) replacing its conditions. In
     * {@code retryOn} a number is a status code for {@code retriable-status-codes}, which it switches on.
     */
    private RetryPolicy retries(Obj r) {
        if (r == null) {
            return null;
        }
        Int attempts = r.integer("attempts", 0, Integer.MAX_VALUE);
        Duration perTry = r.positiveDuration("perTryTimeout");
        Duration backoff = r.positiveDuration("backoff");
        r.bool("retryRemoteLocalities"); // no localities here: accepted, nothing to prefer
        Boolean ignorePrevious = r.bool("retryIgnorePreviousHosts");
        if (Boolean.FALSE.equals(ignorePrevious)) {
            diag.error(r.valueLoc("retryIgnorePreviousHosts"), "'retryIgnorePreviousHosts: false' is not supported:"
                    + " a meshproxy retry always prefers an endpoint not yet tried");
        }
        Set<RetryOn> on = null;
        Set<Integer> codes = null;
        Str retryOn = r.str("retryOn");
        if (retryOn != null && !retryOn.value().isBlank()) {
            on = java.util.EnumSet.noneOf(RetryOn.class);
            codes = new java.util.TreeSet<>();
            if (!retryOnTokens(r, retryOn, on, codes)) {
                return null;
            }
            if (!codes.isEmpty()) {
                on.add(RetryOn.RETRIABLE_STATUS_CODES);
            }
        }
        if (attempts == null || attempts.value() == 0) {
            return null; // Istio: explicitly no retries
        }
        RetryPolicy.Builder b = RetryPolicy.builder().numRetries(attempts.value())
                .retryOn(on == null ? RetryPolicy.ISTIO_DEFAULT.retryOn() : on)
                .retriableStatusCodes(codes == null ? RetryPolicy.ISTIO_DEFAULT.retriableStatusCodes() : codes);
        if (perTry != null) {
            b.perTryTimeout(perTry);
        }
        if (backoff != null) {
            b.baseInterval(backoff).maxInterval(backoff.multipliedBy(10));
        }
        return build(r.loc(), b::build);
    }

    /** Reads the comma-separated {@code retryOn}; each bad token is reported at its own column. */
    private boolean retryOnTokens(Obj r, Str retryOn, Set<RetryOn> on, Set<Integer> codes) {
        Node node = r.raw("retryOn");
        boolean quoted = node instanceof ScalarNode sn
                && sn.getScalarStyle() != org.snakeyaml.engine.v2.common.ScalarStyle.PLAIN;
        boolean ok = true;
        List<String> known = new ArrayList<>();
        for (RetryOn x : RetryOn.values()) {
            known.add(x.token());
        }
        String text = retryOn.value();
        int at = 0;
        for (String part : text.split(",", -1)) {
            int start = at;
            at += part.length() + 1;
            String token = part.strip();
            if (token.isEmpty()) {
                continue;
            }
            int column = retryOn.loc().column() + (quoted ? 1 : 0) + start + part.indexOf(token);
            Loc loc = new Loc(retryOn.loc().file(), retryOn.loc().line(), column);
            if (token.chars().allMatch(Character::isDigit)) {
                int code = token.length() > 3 ? -1 : Integer.parseInt(token);
                if (code < 100 || code > 599) {
                    diag.error(loc, "'" + token + "' in 'retryOn' is not an HTTP status code (100..599)");
                    ok = false;
                } else {
                    codes.add(code);
                }
                continue;
            }
            RetryOn condition = RetryOn.fromToken(token);
            if (condition != null) {
                on.add(condition);
            } else if (UNSUPPORTED_RETRY_ON.contains(token)) {
                diag.error(loc, "retryOn condition '" + token + "' is not supported yet");
                ok = false;
            } else {
                diag.error(loc, "unknown retryOn condition '" + token + "'" + Names.suggestion(token, known)
                        + "; meshproxy knows " + String.join(", ", known) + " and HTTP status codes");
                ok = false;
            }
        }
        return ok;
    }

    /** gRPC status names as Istio writes them in {@code abort.grpcStatus}, by code. */
    static final List<String> GRPC_STATUS = List.of("OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
            "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
            "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
            "UNAUTHENTICATED");

    /** Istio's {@code fault}: delay and/or abort, each applied to a percentage of requests (none when unset). */
    private FaultPolicy fault(Obj f) {
        if (f == null) {
            return null;
        }
        FaultPolicy.Delay delay = null;
        Obj d = f.obj("delay", "fixedDelay", "exponentialDelay", "percentage", "percent");
        if (d != null) {
            d.unsupported("exponentialDelay", null);
            Duration fixed = d.missing("fixedDelay") ? null : d.positiveDuration("fixedDelay");
            Double pct = percentage(d);
            if (fixed != null && pct != null) {
                delay = build(d.loc(), () -> new FaultPolicy.Delay(fixed, pct));
            }
        }
        FaultPolicy.Abort abort = null;
        Obj a = f.obj("abort", "httpStatus", "grpcStatus", "http2Error", "percentage");
        if (a != null) {
            a.unsupported("http2Error", null);
            Int http = a.integer("httpStatus", 200, 599);
            Str grpc = a.str("grpcStatus");
            Double pct = percentage(a);
            int grpcCode = -1;
            if (grpc != null) {
                grpcCode = GRPC_STATUS.indexOf(grpc.value());
                if (grpcCode < 0) {
                    diag.error(grpc.loc(), "'grpcStatus' must be a gRPC status name such as UNAVAILABLE, was '"
                            + grpc.value() + "'" + Names.suggestion(grpc.value(), GRPC_STATUS));
                }
            }
            boolean both = a.has("httpStatus") && a.has("grpcStatus");
            boolean neither = !a.has("httpStatus") && !a.has("grpcStatus") && !a.has("http2Error");
            if (both) {
                diag.error(a.loc(), "an abort takes only one of 'httpStatus' and 'grpcStatus'");
            } else if (neither) {
                diag.error(a.loc(), "an abort needs 'httpStatus' or 'grpcStatus'");
            } else if (pct != null && http != null) {
                abort = build(a.loc(), () -> FaultPolicy.Abort.http(http.value(), pct));
            } else if (pct != null && grpcCode >= 0) {
                int code = grpcCode;
                abort = build(a.loc(), () -> FaultPolicy.Abort.grpc(code, pct));
            }
        }
        if (!f.has("delay") && !f.has("abort")) {
            diag.error(f.loc(), "a fault needs 'delay' or 'abort'");
        }
        if (delay == null && abort == null) {
            return null;
        }
        FaultPolicy.Delay dl = delay;
        FaultPolicy.Abort ab = abort;
        return build(f.loc(), () -> new FaultPolicy(dl, ab));
    }

    /**
     * {@code percentage.value} (0..100, decimals allowed), else the deprecated integer {@code percent}, else 0:
     * Istio injects nothing when neither is set. Null after an error.
     */
    private Double percentage(Obj o) {
        boolean bad = false;
        Double value = 0.0;
        if (o.has("percentage")) {
            Obj p = o.obj("percentage", "value");
            Double v = p == null ? null : p.number("value", 0, 100);
            bad = v == null && (p == null || p.has("value"));
            value = v == null ? 0.0 : v;
        }
        if (o.has("percent")) {
            Int legacy = o.integer("percent", 0, 100);
            if (o.has("percentage")) {
                diag.error(o.keyLoc("percent"), "'percent' is deprecated and cannot be combined with 'percentage': remove it");
                bad = true;
            } else if (legacy == null) {
                bad = true;
            } else {
                diag.warning(o.keyLoc("percent"), "'percent' is deprecated: write 'percentage: {value: "
                        + legacy.value() + "}' instead");
                value = (double) legacy.value();
            }
        }
        return bad ? null : value;
    }

    private Match match(Obj m) {
        RouteMatch.Builder b = RouteMatch.builder();
        Boolean ignoreCase = m.bool("ignoreUriCase");
        Obj uri = m.obj("uri", "exact", "prefix", "regex");
        if (uri != null) {
            StringMatch sm = stringMatch(uri, false);
            if (sm != null) {
                PathMatch.Kind kind = switch (sm.kind) {
                    case "exact" -> PathMatch.Kind.EXACT;
                    case "prefix" -> PathMatch.Kind.PREFIX;
                    default -> PathMatch.Kind.REGEX;
                };
                PathMatch pm = build(sm.value.loc(), () -> new PathMatch(kind, sm.value.value(),
                        Boolean.TRUE.equals(ignoreCase)));
                if (pm != null) {
                    b.path(pm);
                }
            }
        }
        pseudo(m, "method", ":method", b);
        pseudo(m, "authority", ":authority", b);
        pseudo(m, "scheme", ":scheme", b);
        for (Map.Entry<Str, Node> e : m.entries("headers").entrySet()) {
            HeaderMatcher hm = headerMatcher(m, e.getKey(), e.getValue(), false);
            if (hm != null) {
                b.header(hm);
            }
        }
        for (Map.Entry<Str, Node> e : m.entries("withoutHeaders").entrySet()) {
            HeaderMatcher hm = headerMatcher(m, e.getKey(), e.getValue(), true);
            if (hm != null) {
                b.header(hm);
            }
        }
        for (Map.Entry<Str, Node> e : m.entries("queryParams").entrySet()) {
            Obj v = Obj.of(diag, m.file(), e.getValue(), "query parameter '" + e.getKey().value() + "'",
                    "exact", "prefix", "regex");
            if (v == null) {
                continue;
            }
            StringMatch sm = stringMatch(v, true);
            if (sm == null) {
                continue;
            }
            String name = e.getKey().value();
            QueryParameterMatcher qm = build(e.getKey().loc(), () -> switch (sm.kind) {
                case "none" -> QueryParameterMatcher.present(name);
                case "exact" -> sm.value.value().isEmpty() ? QueryParameterMatcher.present(name)
                        : QueryParameterMatcher.exact(name, sm.value.value());
                case "prefix" -> QueryParameterMatcher.prefix(name, sm.value.value());
                default -> QueryParameterMatcher.regex(name, sm.value.value());
            });
            if (qm != null) {
                b.queryParameter(qm);
            }
        }
        Int port = m.integer("port", 1, 65535);
        m.unsupported("sourceLabels", "comes with source workload matching");
        m.unsupported("sourceNamespace", "comes with source workload matching");
        if (m.has("statPrefix")) {
            diag.error(m.keyLoc("statPrefix"), "'statPrefix' is not supported: meshproxy keeps no per-route statistics"
                    + " (a route is never a metric label)");
        }
        for (Str g : m.strs("gateways")) {
            if (!g.value().equals("mesh")) {
                diag.error(g.loc(), "gateway '" + g.value() + "' is not supported: meshproxy is a sidecar, only 'mesh' applies");
            }
        }
        m.str("name");
        return new Match(b.build(), port, m.loc());
    }

    private void pseudo(Obj m, String field, String header, RouteMatch.Builder b) {
        Obj v = m.obj(field, "exact", "prefix", "regex");
        if (v == null) {
            return;
        }
        StringMatch sm = stringMatch(v, false);
        if (sm != null) {
            HeaderMatcher hm = build(v.loc(), () -> new HeaderMatcher(header, kindOf(sm.kind), sm.value.value(), false));
            if (hm != null) {
                b.header(hm);
            }
        }
    }

    private HeaderMatcher headerMatcher(Obj m, Str name, Node node, boolean without) {
        Obj v = Obj.of(diag, m.file(), node, "header '" + name.value() + "'", "exact", "prefix", "regex");
        if (v == null) {
            return null;
        }
        if (!name.value().equals(name.value().toLowerCase(Locale.ROOT))) {
            diag.error(name.loc(), "header name '" + name.value() + "' must be lower case (Istio matches lower-case names)");
            return null;
        }
        StringMatch sm = stringMatch(v, true);
        if (sm == null) {
            return null;
        }
        return build(name.loc(), () -> {
            if (sm.kind.equals("none")) {
                return without ? HeaderMatcher.absent(name.value()) : HeaderMatcher.present(name.value());
            }
            HeaderMatcher hm = new HeaderMatcher(name.value(), kindOf(sm.kind), sm.value.value(), false);
            return without ? hm.inverted() : hm;
        });
    }

    private static HeaderMatcher.Kind kindOf(String kind) {
        return switch (kind) {
            case "exact" -> HeaderMatcher.Kind.EXACT;
            case "prefix" -> HeaderMatcher.Kind.PREFIX;
            default -> HeaderMatcher.Kind.REGEX;
        };
    }

    /** Istio's StringMatch: exactly one of exact, prefix, regex ("none" when empty and {@code emptyMeansPresent}). */
    private record StringMatch(String kind, Str value) {}

    private StringMatch stringMatch(Obj v, boolean emptyMeansPresent) {
        for (String k : List.of("exact", "prefix", "regex")) {
            if (v.isSetToNull(k)) {
                diag.error(v.keyLoc(k), "'" + k + "' needs a value" + (emptyMeansPresent
                        ? " (to match a header's presence, write {})" : ""));
                return null;
            }
        }
        if (v.fields().isEmpty()) {
            if (emptyMeansPresent) {
                return new StringMatch("none", null);
            }
            diag.error(v.loc(), "a string match needs one of 'exact', 'prefix' or 'regex'");
            return null;
        }
        if (v.fields().size() > 1) {
            diag.error(v.loc(), "a string match takes only one of 'exact', 'prefix' and 'regex', got "
                    + String.join(", ", v.fields()));
            return null;
        }
        String kind = v.fields().iterator().next();
        Str value = kind.equals("regex") ? v.regex(kind) : v.str(kind);
        return value == null ? null : new StringMatch(kind, value);
    }

    private Destination destination(Obj d) {
        Integer weight = null;
        Int w = d.integer("weight", 0, 100);
        if (w != null) {
            weight = w.value();
        } else if (d.has("weight")) {
            weight = -1; // reported; the sum is not checked
        }
        HeaderMutation[] headers = headers(d.obj("headers", "request", "response"));
        if (d.missing("destination")) {
            return null;
        }
        Obj dest = d.obj("destination", "host", "subset", "port");
        if (dest == null) {
            return null;
        }
        Str host = dest.requiredStr("host");
        Str subset = dest.str("subset");
        Obj port = dest.obj("port", "number");
        Int number = port == null ? null : port.missing("number") ? null : port.integer("number", 1, 65535);
        if (host == null) {
            return null;
        }
        return new Destination(host, subset, number, weight, headers[0], headers[1], d.loc());
    }

    private HeaderMutation[] headers(Obj h) {
        HeaderMutation[] out = {HeaderMutation.NONE, HeaderMutation.NONE};
        if (h == null) {
            return out;
        }
        out[0] = mutation(h.obj("request", "set", "add", "remove"));
        out[1] = mutation(h.obj("response", "set", "add", "remove"));
        return out;
    }

    private HeaderMutation mutation(Obj m) {
        if (m == null) {
            return HeaderMutation.NONE;
        }
        HeaderMutation.Builder b = HeaderMutation.builder();
        m.strMap("set").forEach(b::set);
        m.strMap("add").forEach(b::add);
        m.strs("remove").forEach(s -> b.remove(s.value()));
        HeaderMutation built = build(m.loc(), b::build);
        return built == null ? HeaderMutation.NONE : built;
    }

    private RedirectAction redirect(Obj r) {
        if (r == null) {
            return null;
        }
        Str uri = r.str("uri");
        Str authority = r.str("authority");
        Int port = r.integer("port", 1, 65535);
        r.oneOf("derivePort", List.of("FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"));
        r.unsupported("derivePort", "comes with redirect port derivation");
        Str scheme = r.oneOf("scheme", List.of("http", "https"));
        Int code = r.integer("redirectCode", 300, 399);
        if (code != null && !RedirectAction.RESPONSE_CODES.contains(code.value())) {
            diag.error(code.loc(), "'redirectCode' must be one of 301, 302, 303, 307, 308, was " + code.value());
            code = null;
        }
        Int c = code;
        return build(r.loc(), () -> new RedirectAction(scheme == null ? null : scheme.value(),
                authority == null ? null : authority.value(), port == null ? null : port.value(),
                uri == null ? null : uri.value(), null, c == null ? 301 : c.value(), false));
    }

    private DirectResponseAction directResponse(Obj d) {
        if (d == null) {
            return null;
        }
        Int status = d.missing("status") ? null : d.integer("status", 200, 599);
        Obj body = d.obj("body", "string", "bytes");
        String text = null;
        if (body != null) {
            Str s = body.str("string");
            Str bytes = body.str("bytes");
            if (s != null && bytes != null) {
                diag.error(body.loc(), "a body takes only one of 'string' and 'bytes'");
            } else if (s != null) {
                text = s.value();
            } else if (bytes != null) {
                try {
                    byte[] raw = Base64.getDecoder().decode(bytes.value().strip());
                    text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(raw)).toString();
                } catch (IllegalArgumentException | CharacterCodingException e) {
                    diag.error(bytes.loc(), "'bytes' must be base64 of UTF-8 text");
                }
            }
        }
        if (status == null) {
            return null;
        }
        String t = text;
        return build(d.loc(), () -> DirectResponseAction.of(status.value(), t));
    }

    // ---------------------------------------------------------------- security kinds

    private void security(Obj r, Meta meta, Str kind) {
        Obj spec = switch (kind.value()) {
            case "PeerAuthentication" -> r.obj("spec", "selector", "mtls", "portLevelMtls");
            case "AuthorizationPolicy" -> r.obj("spec", "selector", "targetRef", "targetRefs", "action", "provider", "rules");
            default -> r.obj("spec", "selector", "targetRef", "targetRefs", "jwtRules"); // RequestAuthentication
        };
        if (spec != null) {
            Obj sel = spec.obj("selector", "matchLabels");
            if (sel != null) {
                sel.strMap("matchLabels");
            }
            switch (kind.value()) {
                case "PeerAuthentication" -> {
                    peerAuthentication(spec, meta, kind.loc());
                    return;
                }
                case "AuthorizationPolicy" -> authorizationPolicy(spec, meta, kind.loc());
                case "RequestAuthentication" -> requestAuthentication(spec, meta, kind.loc());
                default -> { }
            }
        }
    }

    // ---------------------------------------------------------------- AuthorizationPolicy, RequestAuthentication

    private static final String SIDECAR_ONLY = "meshproxy is a sidecar: a policy chooses its workloads by 'selector'"
            + " (or by its namespace without one)";

    /** {@code selector.matchLabels} of an authorization resource; null: no selector (or a wrong one, reported). */
    private Map<String, String> policySelector(Obj spec, String kind) {
        Obj sel = spec.obj("selector", "matchLabels");
        if (sel == null) {
            return null;
        }
        Map<String, String> selector = sel.strMap("matchLabels");
        if (selector.isEmpty() && sel.fields().isEmpty()) {
            diag.error(sel.loc(), "a selector needs 'matchLabels'; without 'selector' a " + kind
                    + " applies to its whole namespace");
        }
        return selector.isEmpty() ? null : selector;
    }

    /**
     * Istio's AuthorizationPolicy: {@code selector}, {@code action} ALLOW (the default) or DENY, and {@code rules}
     * of {@code from.source}, {@code to.operation} and {@code when}. Every value is checked by the model that
     * enforces it (proxy-tls's authz), its complaint reported at the value.
     */
    private void authorizationPolicy(Obj spec, Meta meta, Loc kindLoc) {
        Map<String, String> selector = policySelector(spec, "AuthorizationPolicy");
        spec.unsupported("targetRef", SIDECAR_ONLY);
        spec.unsupported("targetRefs", SIDECAR_ONLY);
        if (spec.has("provider") || spec.isSetToNull("provider")) {
            spec.obj("provider", "name");
            diag.error(spec.keyLoc("provider"), "'provider' (external authorization, action CUSTOM) is not supported");
        }
        AuthorizationPolicy.Action action = AuthorizationPolicy.Action.ALLOW;
        Str a = spec.oneOf("action", List.of("ALLOW", "DENY", "AUDIT", "CUSTOM"));
        if (a != null) {
            action = AuthorizationPolicy.Action.valueOf(a.value());
            if (action == AuthorizationPolicy.Action.AUDIT || action == AuthorizationPolicy.Action.CUSTOM) {
                diag.error(a.loc(), "action " + a.value() + " is not supported: ALLOW and DENY are");
                action = null;
            }
        }
        List<Rule> rules = new ArrayList<>();
        boolean ok = action != null;
        for (Obj rule : spec.objs("rules", "from", "to", "when")) {
            List<Source> from = new ArrayList<>();
            for (Obj f : rule.objs("from", "source")) {
                Obj src = f.obj("source", "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals",
                        "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks", "remoteIpBlocks",
                        "notRemoteIpBlocks");
                if (src == null) {
                    if (!f.isSetToNull("source")) {
                        f.missing("source");
                    } else {
                        diag.error(f.keyLoc("source"), "'source' must not be empty");
                    }
                    ok = false;
                    continue;
                }
                for (String remote : List.of("remoteIpBlocks", "notRemoteIpBlocks")) {
                    if (src.has(remote)) {
                        diag.error(src.keyLoc(remote), "'" + remote + "' is not supported: meshproxy does not derive"
                                + " the original client address (X-Forwarded-For with Istio's numTrustedProxies, or"
                                + " the PROXY protocol); ipBlocks match the connection's peer address");
                        ok = false;
                    }
                }
                Map<String, List<Str>> v = values(src, "principals", "notPrincipals", "requestPrincipals",
                        "notRequestPrincipals", "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks");
                Source built = checked(src.loc(), v, () -> new Source(strings(v, "principals"),
                        strings(v, "notPrincipals"), strings(v, "namespaces"), strings(v, "notNamespaces"),
                        strings(v, "ipBlocks"), strings(v, "notIpBlocks"), strings(v, "requestPrincipals"),
                        strings(v, "notRequestPrincipals")));
                if (built == null) {
                    ok = false;
                } else {
                    from.add(built);
                }
            }
            List<Operation> to = new ArrayList<>();
            for (Obj t : rule.objs("to", "operation")) {
                Obj op = t.obj("operation", "hosts", "notHosts", "ports", "notPorts", "methods", "notMethods",
                        "paths", "notPaths");
                if (op == null) {
                    if (!t.isSetToNull("operation")) {
                        t.missing("operation");
                    } else {
                        diag.error(t.keyLoc("operation"), "'operation' must not be empty");
                    }
                    ok = false;
                    continue;
                }
                Map<String, List<Str>> v = values(op, "hosts", "notHosts", "ports", "notPorts", "methods",
                        "notMethods", "paths", "notPaths");
                List<Integer> ports = ports(v.get("ports"));
                List<Integer> notPorts = ports(v.get("notPorts"));
                if (ports == null || notPorts == null) {
                    ok = false; // reported; the other fields are still checked
                }
                Operation built = checked(op.loc(), v, () -> new Operation(strings(v, "hosts"),
                        strings(v, "notHosts"), ports == null ? List.of() : ports,
                        notPorts == null ? List.of() : notPorts, strings(v, "methods"), strings(v, "notMethods"),
                        strings(v, "paths"), strings(v, "notPaths")));
                if (built == null) {
                    ok = false;
                } else {
                    to.add(built);
                }
            }
            List<Condition> when = new ArrayList<>();
            for (Obj w : rule.objs("when", "key", "values", "notValues")) {
                Str key = w.requiredStr("key");
                Map<String, List<Str>> v = values(w, "values", "notValues");
                if (key == null) {
                    ok = false;
                    continue;
                }
                if (v.get("values").isEmpty() && v.get("notValues").isEmpty()) {
                    diag.error(w.loc(), "condition '" + key.value() + "' needs 'values' or 'notValues'");
                    ok = false;
                    continue;
                }
                Condition built = checked(key.loc(), v, () -> new Condition(key.value(), strings(v, "values"),
                        strings(v, "notValues")));
                if (built == null) {
                    ok = false;
                } else {
                    when.add(built);
                }
            }
            rules.add(new Rule(from, to, when));
        }
        if (ok) {
            authorizationPolicies.add(new Resources.AuthzPolicy(meta, selector, action, rules, kindLoc));
        }
    }

    /** The string lists {@code fields} of {@code o}, by field name (empty when absent). */
    private static Map<String, List<Str>> values(Obj o, String... fields) {
        Map<String, List<Str>> out = new LinkedHashMap<>();
        for (String f : fields) {
            out.put(f, o.strs(f));
        }
        return out;
    }

    private static List<String> strings(Map<String, List<Str>> values, String field) {
        return values.get(field).stream().map(Str::value).toList();
    }

    /** Istio's operation ports: strings holding a port number. Null when one is wrong (reported). */
    private List<Integer> ports(List<Str> values) {
        List<Integer> out = new ArrayList<>();
        boolean ok = true;
        for (Str p : values) {
            int port = parsePort(p.value());
            if (port < 0) {
                diag.error(p.loc(), "a port must be a number in 0..65535, was '" + p.value() + "'");
                ok = false;
            } else {
                out.add(port);
            }
        }
        return ok ? out : null;
    }

    private static final java.util.regex.Pattern INDEXED = java.util.regex.Pattern.compile("(\\w+)\\[(\\d+)\\]: ");

    /**
     * Builds a part of proxy-tls's authz model, which validates itself; its complaint ({@code FIELD[I]: why}) is
     * reported at the value it names, else at {@code at}. Null when refused.
     */
    private <T> T checked(Loc at, Map<String, List<Str>> values, Supplier<T> make) {
        try {
            return make.get();
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            Loc where = at;
            java.util.regex.Matcher m = INDEXED.matcher(message);
            if (m.find()) {
                List<Str> list = values.get(m.group(1));
                int i = Integer.parseInt(m.group(2));
                if (list != null && i < list.size()) {
                    where = list.get(i).loc();
                }
            }
            diag.error(where, message);
            return null;
        }
    }

    /**
     * Istio's RequestAuthentication: {@code selector} and {@code jwtRules}. A rule's keys are {@code jwks} (inline),
     * an http(s) {@code jwksUri}, or meshproxy's {@code jwksUri: file:PATH} for a key set on disk (a relative path
     * from the directory of the file it is written in); inline and file sets are parsed now, so a malformed one is
     * an error here.
     */
    private void requestAuthentication(Obj spec, Meta meta, Loc kindLoc) {
        Map<String, String> selector = policySelector(spec, "RequestAuthentication");
        spec.unsupported("targetRef", SIDECAR_ONLY);
        spec.unsupported("targetRefs", SIDECAR_ONLY);
        List<Resources.JwtRuleAt> rules = new ArrayList<>();
        boolean ok = true;
        for (Obj jwt : spec.objs("jwtRules", "issuer", "audiences", "jwksUri", "jwks", "fromHeaders",
                "fromParams", "fromCookies", "outputPayloadToHeader", "forwardOriginalToken",
                "outputClaimToHeaders", "timeout")) {
            Str issuer = jwt.requiredStr("issuer");
            List<String> audiences = jwt.strs("audiences").stream().map(Str::value).toList();
            jwt.unsupported("fromCookies", null);
            jwt.unsupported("outputClaimToHeaders", "use outputPayloadToHeader");
            Duration timeout = jwt.positiveDuration("timeout");
            InboundSecurity.Jwks jwks = jwks(jwt, timeout);
            List<JwtRule.JwtHeader> headers = new ArrayList<>();
            for (Obj h : jwt.objs("fromHeaders", "name", "prefix")) {
                Str name = h.requiredStr("name");
                Str prefix = h.str("prefix");
                if (name != null) {
                    headers.add(new JwtRule.JwtHeader(name.value(), prefix == null ? null : prefix.value()));
                }
            }
            List<String> params = new ArrayList<>();
            for (Str param : jwt.strs("fromParams")) {
                if (param.value().isBlank()) {
                    diag.error(param.loc(), "an entry of 'fromParams' must not be empty");
                } else {
                    params.add(param.value());
                }
            }
            Boolean forward = jwt.bool("forwardOriginalToken");
            Str output = nonBlank(jwt, "outputPayloadToHeader");
            if (issuer == null || jwks == null || jwt.has("fromCookies") || jwt.has("outputClaimToHeaders")) {
                ok = false;
                continue;
            }
            rules.add(new Resources.JwtRuleAt(new InboundSecurity.JwtRuleConfig(issuer.value(), audiences, jwks,
                    headers, params, Boolean.TRUE.equals(forward), output == null ? null : output.value()),
                    issuer.loc()));
        }
        if (ok) {
            requestAuthentications.add(new Resources.RequestAuthn(meta, selector, rules, kindLoc));
        }
    }

    /** A rule's key set: exactly one of {@code jwks} and {@code jwksUri}; null when wrong (reported). */
    private InboundSecurity.Jwks jwks(Obj jwt, Duration timeout) {
        Str inline = jwt.str("jwks");
        Str uri = jwt.str("jwksUri");
        if (inline != null && uri != null) {
            diag.error(uri.loc(), "a JWT rule takes one of 'jwks' and 'jwksUri', not both");
            return null;
        }
        if (inline == null && uri == null) {
            if (!jwt.has("jwks") && !jwt.has("jwksUri")) {
                diag.error(jwt.loc(), "a JWT rule needs 'jwks' or 'jwksUri': meshproxy does not discover keys from"
                        + " the issuer (OpenID Connect discovery)");
            }
            return null;
        }
        if (inline != null) {
            try {
                JwksSource.inline(inline.value()).close();
            } catch (IllegalArgumentException e) {
                diag.error(inline.loc(), "'jwks': " + e.getMessage());
                return null;
            }
            return new InboundSecurity.Jwks(inline.value(), null, null, timeout);
        }
        URI u;
        try {
            u = new URI(uri.value().strip());
        } catch (URISyntaxException e) {
            diag.error(uri.loc(), "'jwksUri' is not a URI: " + e.getMessage());
            return null;
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        switch (scheme) {
            case "http", "https" -> {
                if (u.getHost() == null) {
                    diag.error(uri.loc(), "'jwksUri' needs a host, was '" + uri.value() + "'");
                    return null;
                }
                return new InboundSecurity.Jwks(null, null, u, timeout);
            }
            case "file" -> {
                String path = u.isOpaque() ? u.getSchemeSpecificPart() : u.getPath();
                Path p;
                try {
                    p = Path.of(path);
                    if (!p.isAbsolute()) {
                        Path dir = Path.of(jwt.file()).toAbsolutePath().getParent();
                        p = (dir == null ? Path.of("").toAbsolutePath() : dir).resolve(p);
                    }
                    p = p.normalize();
                } catch (InvalidPathException e) {
                    diag.error(uri.loc(), "'jwksUri' is not a file path: " + e.getReason());
                    return null;
                }
                if (!Files.isRegularFile(p)) {
                    diag.error(uri.loc(), "'jwksUri': no such file " + p);
                    return null;
                }
                try {
                    JwksSource.file(p).close();
                } catch (IllegalArgumentException e) {
                    diag.error(uri.loc(), "'jwksUri': " + e.getMessage());
                    return null;
                }
                return new InboundSecurity.Jwks(null, p, null, timeout);
            }
            default -> {
                diag.error(uri.loc(), "'jwksUri' must be http, https or (meshproxy) file, was '" + uri.value() + "'");
                return null;
            }
        }
    }

    private static final List<String> MTLS_MODES = List.of("UNSET", "DISABLE", "PERMISSIVE", "STRICT");

    /**
     * Istio's PeerAuthentication: {@code selector}, {@code mtls.mode} and {@code portLevelMtls} (keyed by the
     * workload's port). As Istio applies {@code portLevelMtls} of workload policies only, it needs a selector.
     */
    private void peerAuthentication(Obj spec, Meta meta, Loc kindLoc) {
        Map<String, String> selector = null;
        Obj sel = spec.obj("selector", "matchLabels");
        if (sel != null) {
            selector = sel.strMap("matchLabels");
            if (selector.isEmpty() && !sel.fields().isEmpty()) {
                selector = null; // its error is reported
            } else if (selector.isEmpty()) {
                diag.error(sel.loc(), "a selector needs 'matchLabels'; without 'selector' a PeerAuthentication"
                        + " applies to its whole namespace");
                selector = null;
            }
        }
        Str mode = null;
        Obj mtls = spec.obj("mtls", "mode");
        if (mtls != null) {
            mode = mtls.oneOf("mode", MTLS_MODES);
        }
        Map<Integer, Str> ports = new LinkedHashMap<>();
        for (Map.Entry<Str, Node> e : spec.entries("portLevelMtls").entrySet()) {
            int port = parsePort(e.getKey().value());
            if (port < 1) {
                diag.error(e.getKey().loc(), "a key of 'portLevelMtls' must be a port in 1..65535, was '"
                        + e.getKey().value() + "'");
            }
            Obj pm = Obj.of(diag, spec.file(), e.getValue(), "port " + e.getKey().value() + " of 'portLevelMtls'",
                    "mode");
            Str m = pm == null ? null : pm.oneOf("mode", MTLS_MODES);
            if (port >= 1) {
                ports.put(port, m);
            }
        }
        if (spec.has("portLevelMtls") && !spec.has("selector")) {
            diag.error(spec.keyLoc("portLevelMtls"), "'portLevelMtls' needs a 'selector': Istio applies it to the"
                    + " workloads a policy selects, never namespace- or mesh-wide");
        }
        peerAuthentications.add(new PeerAuthentication(meta, selector, mode, ports, kindLoc));
    }

    // ---------------------------------------------------------------- Telemetry

    /**
     * Istio's Telemetry: {@code tracing[].randomSamplingPercentage} and {@code accessLogging[].disabled} apply,
     * scoped by namespace and {@code selector} (see the Translator); the rest is read, so a typo is still caught,
     * and reported as not supported at its place.
     */
    private void telemetryResource(Obj r, Meta meta, Loc kindLoc) {
        Obj spec = r.obj("spec", "selector", "targetRef", "targetRefs", "tracing", "metrics", "accessLogging");
        if (spec == null) {
            return;
        }
        Map<String, String> selector = null;
        Obj sel = spec.obj("selector", "matchLabels");
        if (sel != null) {
            selector = sel.strMap("matchLabels");
            if (selector.isEmpty() && !sel.fields().isEmpty()) {
                selector = null; // its error is reported
            } else if (selector.isEmpty()) {
                diag.error(sel.loc(), "a selector needs 'matchLabels'; without 'selector' a Telemetry applies to its"
                        + " whole namespace");
                selector = null;
            }
        }
        for (String ref : List.of("targetRef", "targetRefs")) {
            if (spec.has(ref)) {
                diag.error(spec.keyLoc(ref), "'" + ref + "' is not supported: it selects gateways and waypoints;"
                        + " a sidecar's workload is chosen with 'selector'");
            }
        }
        Double sampling = null;
        Loc samplingLoc = null;
        List<Obj> tracing = spec.objs("tracing", "match", "providers", "customTags", "disableSpanReporting",
                "useRequestIdForTraceSampling", "randomSamplingPercentage", "enableIstioTags");
        for (int i = 0; i < tracing.size(); i++) {
            Obj t = tracing.get(i);
            if (i == 1) {
                diag.error(t.loc(), "only one 'tracing' entry is supported, as in Istio");
            }
            directionMatch(t);
            providers(t, "comes with more exporters; spans go to spec.telemetry.tracing.zipkin of the Proxy");
            t.entries("customTags");
            t.unsupported("customTags", "span tags are Istio's standard ones");
            t.bool("disableSpanReporting");
            t.unsupported("disableSpanReporting", null);
            t.bool("useRequestIdForTraceSampling");
            t.unsupported("useRequestIdForTraceSampling", null);
            t.bool("enableIstioTags");
            t.unsupported("enableIstioTags", null);
            Double pct = t.number("randomSamplingPercentage", 0, 100);
            if (i == 0 && pct != null) {
                sampling = pct;
                samplingLoc = t.valueLoc("randomSamplingPercentage");
            }
        }
        for (Obj m : spec.objs("metrics", "providers", "overrides", "reportingInterval")) {
            for (Obj p : m.objs("providers", "name")) {
                p.requiredStr("name");
            }
            for (Obj o : m.objs("overrides", "match", "disabled", "tagOverrides")) {
                o.bool("disabled");
                Obj match = o.obj("match", "metric", "customMetric", "mode");
                if (match != null) {
                    match.str("metric");
                    match.str("customMetric");
                    match.oneOf("mode", List.of("CLIENT_AND_SERVER", "CLIENT", "SERVER"));
                }
                o.entries("tagOverrides");
            }
            m.duration("reportingInterval");
        }
        spec.unsupported("metrics", "use spec.telemetry.metrics of the Proxy");
        Boolean disabled = null;
        Obj disabledIn = null;
        for (Obj a : spec.objs("accessLogging", "match", "providers", "disabled", "filter")) {
            directionMatch(a);
            providers(a, "comes with more sinks; access logs go to spec.telemetry.accessLog.path of the Proxy");
            Obj filter = a.obj("filter", "expression");
            if (filter != null) {
                filter.str("expression");
            }
            a.unsupported("filter", "CEL expressions; see spec.telemetry.accessLog.alwaysLogErrors and samplingPercent");
            Boolean d = a.bool("disabled");
            if (d != null && disabledIn != null) {
                diag.error(a.keyLoc("disabled"), "a second 'disabled' for the access log (the first at "
                        + disabledIn.keyLoc("disabled") + "): meshproxy has one access log; keep one");
            } else if (d != null) {
                disabled = d;
                disabledIn = a;
            }
        }
        telemetries.add(new TelemetryResource(meta, selector, sampling, samplingLoc, disabled, kindLoc));
    }

    /** Istio's {@code match: {mode}}: read, then not supported (settings apply to both directions). */
    private void directionMatch(Obj o) {
        Obj match = o.obj("match", "mode");
        if (match != null) {
            match.oneOf("mode", List.of("CLIENT_AND_SERVER", "CLIENT", "SERVER"));
        }
        o.unsupported("match", "a Telemetry applies to both directions");
    }

    private void providers(Obj o, String comesWith) {
        for (Obj p : o.objs("providers", "name")) {
            p.requiredStr("name");
        }
        o.unsupported("providers", comesWith);
    }

    // ---------------------------------------------------------------- helpers

    /** Runs a core builder; its validation error becomes an error at {@code at}. */
    private <T> T build(Loc at, Supplier<T> builder) {
        try {
            return builder.get();
        } catch (ConfigException e) {
            diag.error(at, e.getMessage());
            return null;
        }
    }
}
