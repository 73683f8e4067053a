package io.meshproxy.config.internal;

import io.meshproxy.config.ConfigSource;
import io.meshproxy.config.internal.Obj.Int;
import io.meshproxy.config.internal.Obj.Str;
import io.meshproxy.config.internal.Resources.Admin;
import io.meshproxy.config.internal.Resources.Destination;
import io.meshproxy.config.internal.Resources.DestinationRule;
import io.meshproxy.config.internal.Resources.Endpoint;
import io.meshproxy.config.internal.Resources.Http;
import io.meshproxy.config.internal.Resources.Listener;
import io.meshproxy.config.internal.Resources.Match;
import io.meshproxy.config.internal.Resources.Meta;
import io.meshproxy.config.internal.Resources.Policy;
import io.meshproxy.config.internal.Resources.Port;
import io.meshproxy.config.internal.Resources.PortPolicy;
import io.meshproxy.config.internal.Resources.ServiceEntry;
import io.meshproxy.config.internal.Resources.Subset;
import io.meshproxy.config.internal.Resources.VirtualService;
import io.meshproxy.core.config.ConfigException;
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

    static final String RESILIENCE = "comes with upstream resilience";
    static final String MTLS = "comes with mTLS";
    static final String TELEMETRY = "comes with telemetry";

    private final Diagnostics diag;
    final List<Resources.Proxy> proxies = new ArrayList<>();
    final List<ServiceEntry> serviceEntries = new ArrayList<>();
    final List<DestinationRule> destinationRules = new ArrayList<>();
    final List<VirtualService> virtualServices = new ArrayList<>();


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
            default -> security(r, kind);
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
        Obj spec = r.obj("spec", "admin", "listeners");
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
        for (Obj l : spec.objs("listeners", "name", "address", "port", "direction", "forwardTo", "forwardProtocol")) {
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
            listeners.add(new Listener(name, address == null ? "127.0.0.1" : address.value(), port,
                    direction == null ? null : direction.value(), direction == null ? l.loc() : direction.loc(),
                    forwardTo, fwdHost, fwdPort, proto, l.loc()));
        }
        proxies.add(new Resources.Proxy(meta, kindLoc, admin, listeners));
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
        spec.unsupported("subjectAltNames", MTLS);
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
            e.unsupported("serviceAccount", MTLS);
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
                spec.valueLoc("resolution"), endpoints, r.loc()));
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
        Duration[] timeouts = connectionPool(p.obj("connectionPool", "tcp", "http"));
        p.unsupported("outlierDetection", RESILIENCE);
        p.unsupported("tls", MTLS);
        checkOutlierDetection(p.obj("outlierDetection", OUTLIER_FIELDS));
        checkTls(p.obj("tls", TLS_FIELDS));
        p.unsupported("tunnel", null);
        p.unsupported("proxyProtocol", null);
        p.unsupported("retryBudget", RESILIENCE);
        List<PortPolicy> ports = new ArrayList<>();
        if (p.has("portLevelSettings") && !allowPortLevel) {
            p.error("portLevelSettings", "'portLevelSettings' is not allowed here");
        }
        for (Obj pl : p.objs("portLevelSettings", "port", "loadBalancer", "connectionPool", "outlierDetection", "tls")) {
            Obj port = pl.missing("port") ? null : pl.obj("port", "number");
            Int number = port == null ? null : port.missing("number") ? null : port.integer("number", 1, 65535);
            LbPolicy plb = loadBalancer(pl.obj("loadBalancer", "simple", "consistentHash", "localityLbSetting",
                    "warmupDurationSecs", "warmup"));
            Duration[] pt = connectionPool(pl.obj("connectionPool", "tcp", "http"));
            pl.unsupported("outlierDetection", RESILIENCE);
            pl.unsupported("tls", MTLS);
            checkOutlierDetection(pl.obj("outlierDetection", OUTLIER_FIELDS));
            checkTls(pl.obj("tls", TLS_FIELDS));
            if (number != null) {
                ports.add(new PortPolicy(number, plb, pt[0], pt[1]));
            }
        }
        return new Policy(lb, timeouts[0], timeouts[1], ports);
    }

    private static final List<String> OUTLIER_FIELDS = List.of("splitExternalLocalOriginErrors",
            "consecutiveLocalOriginFailures", "consecutiveGatewayErrors", "consecutive5xxErrors",
            "consecutiveErrors", "interval", "baseEjectionTime", "maxEjectionPercent", "minHealthPercent");
    private static final List<String> TLS_FIELDS = List.of("mode", "clientCertificate", "privateKey",
            "caCertificates", "credentialName", "subjectAltNames", "sni", "insecureSkipVerify", "caCrl");

    private void checkOutlierDetection(Obj o) {
        if (o == null) {
            return;
        }
        o.bool("splitExternalLocalOriginErrors");
        for (String f : List.of("consecutiveLocalOriginFailures", "consecutiveGatewayErrors", "consecutive5xxErrors",
                "consecutiveErrors", "maxEjectionPercent", "minHealthPercent")) {
            o.integer(f, 0, Integer.MAX_VALUE);
        }
        o.duration("interval");
        o.duration("baseEjectionTime");
    }

    private void checkTls(Obj t) {
        if (t == null) {
            return;
        }
        t.oneOf("mode", List.of("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"));
        for (String f : List.of("clientCertificate", "privateKey", "caCertificates", "credentialName", "sni", "caCrl")) {
            t.str(f);
        }
        t.strs("subjectAltNames");
        t.bool("insecureSkipVerify");
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

    /** [connectTimeout, idleTimeout]; the other connection-pool settings parse and are reported as not supported yet. */
    private Duration[] connectionPool(Obj cp) {
        Duration[] out = new Duration[2];
        if (cp == null) {
            return out;
        }
        Obj tcp = cp.obj("tcp", "maxConnections", "connectTimeout", "tcpKeepalive", "maxConnectionDuration",
                "idleTimeout");
        if (tcp != null) {
            out[0] = tcp.duration("connectTimeout");
            if (out[0] != null && out[0].isZero()) {
                tcp.error("connectTimeout", "'connectTimeout' must be more than 0");
                out[0] = null;
            }
            tcp.integer("maxConnections", 0, Integer.MAX_VALUE);
            tcp.unsupported("maxConnections", RESILIENCE);
            tcp.obj("tcpKeepalive", "probes", "time", "interval");
            tcp.unsupported("tcpKeepalive", RESILIENCE);
            tcp.unsupported("maxConnectionDuration", RESILIENCE);
            tcp.unsupported("idleTimeout", "use http.idleTimeout");
        }
        Obj http = cp.obj("http", "http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection",
                "maxRetries", "idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams");
        if (http != null) {
            out[1] = http.duration("idleTimeout");
            for (String f : List.of("http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection",
                    "maxRetries", "maxConcurrentStreams")) {
                http.integer(f, 0, Integer.MAX_VALUE);
                http.unsupported(f, RESILIENCE);
            }
            http.oneOf("h2UpgradePolicy", List.of("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"));
            http.unsupported("h2UpgradePolicy", RESILIENCE);
            http.bool("useClientProtocol");
            http.unsupported("useClientProtocol", null);
        }
        return out;
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
        h.unsupported("retries", RESILIENCE);
        h.unsupported("fault", RESILIENCE);
        h.unsupported("mirror", "comes with traffic mirroring");
        h.unsupported("mirrors", "comes with traffic mirroring");
        h.unsupported("mirrorPercentage", "comes with traffic mirroring");
        h.unsupported("mirrorPercent", "comes with traffic mirroring");
        h.unsupported("corsPolicy", "comes with a CORS filter");
        h.unsupported("delegate", "comes with VirtualService delegation");
        // Parse what is unsupported anyway, so a typo inside it is reported too.
        checkRetries(h.obj("retries", "attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities", "backoff"));
        checkFault(h.obj("fault", "delay", "abort"));
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
        if (timeout != null && !h.has("route")) {
            diag.error(h.keyLoc("timeout"), "'timeout' applies to 'route' only");
        }
        if (h.raw("route") instanceof org.snakeyaml.engine.v2.nodes.SequenceNode seq && seq.getValue().isEmpty()) {
            diag.error(h.valueLoc("route"), "'route' must name at least one destination");
        }
        return new Http(name == null ? null : name.value(), matches, route, h.keyLoc("route"), uriRewrite,
                authorityRewrite, regexRewrite, redirect, direct, headers[0], headers[1], timeout, h.loc());
    }

    private void checkRetries(Obj r) {
        if (r != null) {
            r.integer("attempts", 0, Integer.MAX_VALUE);
            r.duration("perTryTimeout");
            r.str("retryOn");
            r.bool("retryRemoteLocalities");
            r.duration("backoff");
        }
    }

    private void checkFault(Obj f) {
        if (f == null) {
            return;
        }
        Obj delay = f.obj("delay", "fixedDelay", "exponentialDelay", "percentage", "percent");
        if (delay != null) {
            delay.duration("fixedDelay");
            delay.obj("percentage", "value");
        }
        Obj abort = f.obj("abort", "httpStatus", "grpcStatus", "http2Error", "percentage");
        if (abort != null) {
            abort.integer("httpStatus", 200, 599);
            abort.str("grpcStatus");
            abort.obj("percentage", "value");
        }
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
        m.unsupported("statPrefix", TELEMETRY);
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

    // ---------------------------------------------------------------- security and telemetry kinds

    private void security(Obj r, Str kind) {
        Obj spec = switch (kind.value()) {
            case "PeerAuthentication" -> r.obj("spec", "selector", "mtls", "portLevelMtls");
            case "AuthorizationPolicy" -> r.obj("spec", "selector", "targetRef", "targetRefs", "action", "provider", "rules");
            case "RequestAuthentication" -> r.obj("spec", "selector", "targetRef", "targetRefs", "jwtRules");
            default -> r.obj("spec", "selector", "targetRef", "targetRefs", "tracing", "metrics", "accessLogging");
        };
        if (spec != null) {
            Obj sel = spec.obj("selector", "matchLabels");
            if (sel != null) {
                sel.strMap("matchLabels");
            }
            switch (kind.value()) {
                case "PeerAuthentication" -> {
                    Obj mtls = spec.obj("mtls", "mode");
                    if (mtls != null) {
                        mtls.oneOf("mode", List.of("UNSET", "DISABLE", "PERMISSIVE", "STRICT"));
                    }
                }
                case "AuthorizationPolicy" -> {
                    spec.oneOf("action", List.of("ALLOW", "DENY", "AUDIT", "CUSTOM"));
                    for (Obj rule : spec.objs("rules", "from", "to", "when")) {
                        for (Obj from : rule.objs("from", "source")) {
                            from.obj("source", "principals", "notPrincipals", "requestPrincipals",
                                    "notRequestPrincipals", "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks",
                                    "remoteIpBlocks", "notRemoteIpBlocks");
                        }
                        for (Obj to : rule.objs("to", "operation")) {
                            to.obj("operation", "hosts", "notHosts", "ports", "notPorts", "methods", "notMethods",
                                    "paths", "notPaths");
                        }
                        for (Obj when : rule.objs("when", "key", "values", "notValues")) {
                            when.requiredStr("key");
                        }
                    }
                }
                case "RequestAuthentication" -> {
                    for (Obj jwt : spec.objs("jwtRules", "issuer", "audiences", "jwksUri", "jwks", "fromHeaders",
                            "fromParams", "fromCookies", "outputPayloadToHeader", "forwardOriginalToken",
                            "outputClaimToHeaders", "timeout")) {
                        jwt.requiredStr("issuer");
                    }
                }
                default -> { }
            }
        }
        String comesWith = kind.value().equals("Telemetry") ? TELEMETRY : MTLS;
        diag.error(kind.loc(), kind.value() + " is not supported yet (" + comesWith + ")");
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
