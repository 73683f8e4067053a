package io.meshproxy.tls.authz;

import java.util.List;
import java.util.Map;

/**
 * An {@link AuthorizationPolicy} compiled for the data path: string matchers, CIDR blocks and ports decided
 * once, so matching a request runs no regex and allocates nothing (beyond the request's lazily derived
 * namespace and normalized path, computed once per request).
 */
final class CompiledPolicy {
    final AuthorizationPolicy policy;
    private final CompiledRule[] rules;
    private final String[] ruleNames;

    CompiledPolicy(AuthorizationPolicy policy) {
        this.policy = policy;
        this.rules = new CompiledRule[policy.rules().size()];
        this.ruleNames = new String[rules.length];
        for (int i = 0; i < rules.length; i++) {
            rules[i] = new CompiledRule(policy.rules().get(i));
            ruleNames[i] = "ns[" + policy.namespace() + "]-policy[" + policy.name() + "]-rule[" + i + "]";
        }
    }

    /** The name of the first matching rule in Envoy's RBAC form, {@code ns[NS]-policy[NAME]-rule[I]}; or null. */
    String match(CheckRequest r) {
        for (int i = 0; i < rules.length; i++) {
            if (rules[i].matches(r)) {
                return ruleNames[i];
            }
        }
        return null;
    }

    static final class CompiledRule {
        private final CompiledSource[] from;
        private final CompiledOperation[] to;
        private final CompiledCondition[] when;

        CompiledRule(Rule rule) {
            from = rule.from().stream().map(s -> new CompiledSource(s.principals(), s.notPrincipals(),
                    s.namespaces(), s.notNamespaces(), s.ipBlocks(), s.notIpBlocks(), s.requestPrincipals(),
                    s.notRequestPrincipals())).toArray(CompiledSource[]::new);
            to = rule.to().stream().map(o -> new CompiledOperation(o.hosts(), o.notHosts(), o.ports(),
                    o.notPorts(), o.methods(), o.notMethods(), o.paths(), o.notPaths()))
                    .toArray(CompiledOperation[]::new);
            when = rule.when().stream().map(c -> CompiledCondition.compile(c.key(), c.values(), c.notValues()))
                    .toArray(CompiledCondition[]::new);
        }

        boolean matches(CheckRequest r) {
            if (from.length > 0) {
                boolean any = false;
                for (CompiledSource s : from) {
                    if (s.matches(r)) {
                        any = true;
                        break;
                    }
                }
                if (!any) {
                    return false;
                }
            }
            if (to.length > 0) {
                boolean any = false;
                for (CompiledOperation o : to) {
                    if (o.matches(r)) {
                        any = true;
                        break;
                    }
                }
                if (!any) {
                    return false;
                }
            }
            for (CompiledCondition c : when) {
                if (!c.matches(r)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A positive field: empty places no condition, else some value must match. */
    private static boolean in(StringMatch[] values, String v) {
        return values.length == 0 || StringMatch.any(values, v);
    }

    /** A negative field: no value may match (an absent attribute matches none). */
    private static boolean notIn(StringMatch[] values, String v) {
        return values.length == 0 || !StringMatch.any(values, v);
    }

    static final class CompiledSource {
        private final StringMatch[] principals, notPrincipals, namespaces, notNamespaces, requestPrincipals,
                notRequestPrincipals;
        private final CidrBlock[] ipBlocks, notIpBlocks;

        CompiledSource(List<String> principals, List<String> notPrincipals, List<String> namespaces,
                List<String> notNamespaces, List<String> ipBlocks, List<String> notIpBlocks,
                List<String> requestPrincipals, List<String> notRequestPrincipals) {
            this.principals = StringMatch.compileAll(principals, false, "principals");
            this.notPrincipals = StringMatch.compileAll(notPrincipals, false, "notPrincipals");
            this.namespaces = StringMatch.compileAll(namespaces, false, "namespaces");
            this.notNamespaces = StringMatch.compileAll(notNamespaces, false, "notNamespaces");
            this.ipBlocks = CidrBlock.parseAll(ipBlocks, "ipBlocks");
            this.notIpBlocks = CidrBlock.parseAll(notIpBlocks, "notIpBlocks");
            this.requestPrincipals = StringMatch.compileAll(requestPrincipals, false, "requestPrincipals");
            this.notRequestPrincipals = StringMatch.compileAll(notRequestPrincipals, false, "notRequestPrincipals");
        }

        boolean matches(CheckRequest r) {
            String requestPrincipal = r.auth == null ? null : r.auth.principal();
            return in(principals, r.principal) && notIn(notPrincipals, r.principal)
                    && (namespaces.length == 0 || StringMatch.any(namespaces, r.namespace()))
                    && (notNamespaces.length == 0 || !StringMatch.any(notNamespaces, r.namespace()))
                    && (ipBlocks.length == 0 || CidrBlock.any(ipBlocks, r.sourceIp))
                    && (notIpBlocks.length == 0 || !CidrBlock.any(notIpBlocks, r.sourceIp))
                    && in(requestPrincipals, requestPrincipal) && notIn(notRequestPrincipals, requestPrincipal);
        }
    }

    static final class CompiledOperation {
        private final StringMatch[] hosts, notHosts, methods, notMethods, paths, notPaths;
        private final int[] ports, notPorts;

        CompiledOperation(List<String> hosts, List<String> notHosts, List<Integer> ports, List<Integer> notPorts,
                List<String> methods, List<String> notMethods, List<String> paths, List<String> notPaths) {
            this.hosts = StringMatch.compileAll(hosts, true, "hosts");
            this.notHosts = StringMatch.compileAll(notHosts, true, "notHosts");
            this.ports = ports(ports, "ports");
            this.notPorts = ports(notPorts, "notPorts");
            this.methods = StringMatch.compileAll(methods, false, "methods");
            this.notMethods = StringMatch.compileAll(notMethods, false, "notMethods");
            this.paths = StringMatch.compileAll(paths, false, "paths");
            this.notPaths = StringMatch.compileAll(notPaths, false, "notPaths");
        }

        private static int[] ports(List<Integer> list, String field) {
            int[] out = new int[list.size()];
            for (int i = 0; i < out.length; i++) {
                Integer p = list.get(i);
                if (p == null || p < 0 || p > 65535) {
                    throw new IllegalArgumentException(field + "[" + i + "]: a port must be 0..65535, was " + p);
                }
                out[i] = p;
            }
            return out;
        }

        private static boolean contains(int[] ports, int port) {
            for (int p : ports) {
                if (p == port) {
                    return true;
                }
            }
            return false;
        }

        boolean matches(CheckRequest r) {
            if (!in(hosts, r.host) || !notIn(notHosts, r.host)) {
                return false;
            }
            if (ports.length > 0 && !contains(ports, r.destinationPort)) {
                return false;
            }
            if (notPorts.length > 0 && contains(notPorts, r.destinationPort)) {
                return false;
            }
            if (!in(methods, r.method) || !notIn(notMethods, r.method)) {
                return false;
            }
            if (paths.length == 0 && notPaths.length == 0) {
                return true;
            }
            String path = r.path();
            return in(paths, path) && notIn(notPaths, path);
        }
    }

    /** A {@code when} condition, by key. */
    abstract static class CompiledCondition {
        private static final String HEADER = "request.headers[";
        private static final String CLAIMS = "request.auth.claims[";

        abstract boolean matches(CheckRequest r);

        static CompiledCondition compile(String key, List<String> values, List<String> notValues) {
            if (key == null || key.isEmpty()) {
                throw new IllegalArgumentException("a condition needs a key");
            }
            if (values.isEmpty() && notValues.isEmpty()) {
                throw new IllegalArgumentException("condition '" + key + "' needs values or notValues");
            }
            try {
                return compile0(key, values, notValues);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("condition '" + key + "': " + e.getMessage(), e);
            }
        }

        private static CompiledCondition compile0(String key, List<String> values, List<String> notValues) {
            if (key.startsWith(HEADER) && key.endsWith("]") && key.length() > HEADER.length() + 1) {
                String name = key.substring(HEADER.length(), key.length() - 1);
                return new StringCondition(values, notValues, r -> r.headers.get(name));
            }
            if (key.startsWith(CLAIMS) && key.endsWith("]")) {
                String[] path = key.substring(CLAIMS.length(), key.length() - 1).split("\\]\\[", -1);
                for (String p : path) {
                    if (p.isEmpty()) {
                        throw new IllegalArgumentException("an empty claim name");
                    }
                }
                return new ListCondition(values, notValues, r -> claim(r.auth, path));
            }
            switch (key) {
                case "source.ip": {
                    CidrBlock[] in = CidrBlock.parseAll(values, "values");
                    CidrBlock[] out = CidrBlock.parseAll(notValues, "notValues");
                    return new CompiledCondition() {
                        @Override
                        boolean matches(CheckRequest r) {
                            return (in.length == 0 || CidrBlock.any(in, r.sourceIp))
                                    && (out.length == 0 || !CidrBlock.any(out, r.sourceIp));
                        }
                    };
                }
                case "destination.port": {
                    int[] in = ports(values);
                    int[] out = ports(notValues);
                    return new CompiledCondition() {
                        @Override
                        boolean matches(CheckRequest r) {
                            return (in.length == 0 || CompiledOperation.contains(in, r.destinationPort))
                                    && (out.length == 0 || !CompiledOperation.contains(out, r.destinationPort));
                        }
                    };
                }
                case "source.namespace":
                    return new StringCondition(values, notValues, CheckRequest::namespace);
                case "source.principal":
                    return new StringCondition(values, notValues, r -> r.principal);
                case "request.auth.principal":
                    return new StringCondition(values, notValues, r -> r.auth == null ? null : r.auth.principal());
                case "request.auth.presenter":
                    return new StringCondition(values, notValues, r -> r.auth == null ? null : r.auth.presenter());
                case "request.auth.audiences":
                    return new ListCondition(values, notValues, r -> r.auth == null ? null : r.auth.audiences());
                default:
                    throw new IllegalArgumentException("unsupported condition key (supported: request.headers[NAME], "
                            + "source.ip, source.namespace, source.principal, request.auth.principal, "
                            + "request.auth.audiences, request.auth.presenter, request.auth.claims[NAME], "
                            + "destination.port)");
            }
        }

        private static int[] ports(List<String> values) {
            int[] out = new int[values.size()];
            for (int i = 0; i < out.length; i++) {
                try {
                    out[i] = Integer.parseInt(values.get(i));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("'" + values.get(i) + "' is not a port", e);
                }
                if (out[i] < 0 || out[i] > 65535) {
                    throw new IllegalArgumentException("a port must be 0..65535, was " + out[i]);
                }
            }
            return out;
        }

        private static Object claim(RequestAuth auth, String[] path) {
            if (auth == null) {
                return null;
            }
            Object v = auth.claims();
            for (String p : path) {
                if (!(v instanceof Map<?, ?> m)) {
                    return null;
                }
                v = m.get(p);
            }
            return v;
        }
    }

    private static final class StringCondition extends CompiledCondition {
        private final StringMatch[] values, notValues;
        private final java.util.function.Function<CheckRequest, String> attribute;

        StringCondition(List<String> values, List<String> notValues,
                java.util.function.Function<CheckRequest, String> attribute) {
            this.values = StringMatch.compileAll(values, false, "values");
            this.notValues = StringMatch.compileAll(notValues, false, "notValues");
            this.attribute = attribute;
        }

        @Override
        boolean matches(CheckRequest r) {
            String v = attribute.apply(r);
            return in(values, v) && notIn(notValues, v);
        }
    }

    /** An attribute that may hold several strings (audiences, list claims): matches when any element does. */
    private static final class ListCondition extends CompiledCondition {
        private final StringMatch[] values, notValues;
        private final java.util.function.Function<CheckRequest, Object> attribute;

        ListCondition(List<String> values, List<String> notValues,
                java.util.function.Function<CheckRequest, Object> attribute) {
            this.values = StringMatch.compileAll(values, false, "values");
            this.notValues = StringMatch.compileAll(notValues, false, "notValues");
            this.attribute = attribute;
        }

        private static boolean anyMatches(StringMatch[] matchers, Object v) {
            if (v instanceof String s) {
                return StringMatch.any(matchers, s);
            }
            if (v instanceof List<?> list) {
                for (int i = 0; i < list.size(); i++) {
                    if (list.get(i) instanceof String s && StringMatch.any(matchers, s)) {
                        return true;
                    }
                }
            }
            return false; // absent, or not a string: Istio matches string claims and lists of strings only
        }

        @Override
        boolean matches(CheckRequest r) {
            Object v = attribute.apply(r);
            return (values.length == 0 || anyMatches(values, v)) && (notValues.length == 0 || !anyMatches(notValues, v));
        }
    }
}
