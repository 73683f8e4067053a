package io.meshproxy.core.routing;

import io.meshproxy.core.config.Action;
import io.meshproxy.core.config.HeaderMutation;
import io.meshproxy.core.config.RedirectAction;
import io.meshproxy.core.config.Route;
import io.meshproxy.core.config.RouteAction;
import io.meshproxy.core.config.WeightedCluster;
import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.resilience.FaultFilter;
import io.meshproxy.core.resilience.LocalRateLimitFilter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * A route of a {@link RouteTable}, ready for the data path: its match conditions compiled, its weighted
 * clusters laid out for picking, its rewrites and header mutations ready to apply. Immutable and shared by
 * every event loop; the methods that change a request or response change only the object passed in.
 *
 * <p>What the router does with it depends on {@link #action()}:
 * <ul>
 *   <li>{@link RouteAction}: the route's own {@link #filter()} (if any) around the rest: {@link #pickCluster()},
 *       {@link #applyRequestTransforms}, forward within
 *       {@link #timeout()}, then {@link #applyResponseTransforms} on the way back;</li>
 *   <li>{@link RedirectAction}: answer {@link #redirectStatus()} with {@code location: }
 *       {@link #redirectLocation}, passed through {@link #applyResponseTransforms};</li>
 *   <li>{@link io.meshproxy.core.config.DirectResponseAction}: answer locally, passed through
 *       {@link #applyResponseTransforms}.</li>
 * </ul>
 */
public final class CompiledRoute {

    private final Route config;
    private final String virtualHostName;
    private final RequestMatcher matcher;
    private final Duration timeout;

    // RouteAction only; otherwise empty / null.
    private final WeightedCluster[] clusters;
    /** {@code cumulativeWeights[i]} is the sum of the weights of clusters 0..i. */
    private final long[] cumulativeWeights;
    private final String prefixRewrite;
    private final Pattern regexRewrite;
    private final String regexReplacement;
    private final String hostRewrite;
    /** The route's local rate limit, then its fault injection, as one filter; null when it has neither. */
    private final HttpFilter filter;

    CompiledRoute(Route config, String virtualHostName) {
        this.config = config;
        this.virtualHostName = virtualHostName;
        this.matcher = new RequestMatcher(config.match());
        if (config.action() instanceof RouteAction forward) {
            List<WeightedCluster> targets = forward.clusters();
            this.clusters = targets.toArray(new WeightedCluster[0]);
            this.cumulativeWeights = new long[clusters.length];
            long sum = 0;
            for (int i = 0; i < clusters.length; i++) {
                sum += Math.max(0, clusters[i].weight());
                cumulativeWeights[i] = sum;
            }
            this.timeout = forward.timeout() == null ? Duration.ZERO : forward.timeout();
            this.prefixRewrite = forward.prefixRewrite();
            this.regexRewrite = forward.regexRewrite() == null ? null : Pattern.compile(forward.regexRewrite().pattern());
            this.regexReplacement = forward.regexRewrite() == null
                    ? null : javaReplacement(forward.regexRewrite().substitution());
            this.hostRewrite = forward.hostRewrite();
            this.filter = routeFilter(forward);
        } else {
            this.clusters = new WeightedCluster[0];
            this.cumulativeWeights = new long[0];
            this.timeout = Duration.ZERO;
            this.prefixRewrite = null;
            this.regexRewrite = null;
            this.regexReplacement = null;
            this.hostRewrite = null;
            this.filter = null;
        }
    }

    /**
     * A rate limit first (a request over the limit is answered at once, not delayed first), then the fault.
     * The bucket belongs to this compiled route: a configuration update that recompiles the route table
     * starts the route with a full bucket.
     */
    private static HttpFilter routeFilter(RouteAction forward) {
        HttpFilter fault = forward.fault() == null ? null : new FaultFilter(forward.fault());
        if (forward.rateLimit() == null) {
            return fault;
        }
        LocalRateLimitFilter rateLimit = new LocalRateLimitFilter(forward.rateLimit());
        return fault == null ? rateLimit : rateLimit.before(fault);
    }

    /** The route's name, for logs and metrics; may be null. */
    public String name() {
        return config.name();
    }

    /** The name of the virtual host this route belongs to, for logs and metrics. */
    public String virtualHostName() {
        return virtualHostName;
    }

    /** The configuration this route was compiled from. */
    public Route config() {
        return config;
    }

    /** What to do with a request this route took. */
    public Action action() {
        return config.action();
    }

    /** The route timeout of a {@link RouteAction}; {@link Duration#ZERO} (no timeout) otherwise or when unset. */
    public Duration timeout() {
        return timeout;
    }

    /**
     * The filters of a {@link RouteAction} route, run after the route matched and before the request is
     * forwarded: its local rate limit ({@link RouteAction#rateLimit()}, 429 RL), then its fault injection
     * ({@link RouteAction#fault()}, DI / FI), as one filter. Null when the route has neither (and for other
     * actions), so such routes pay nothing.
     */
    public HttpFilter filter() {
        return filter;
    }

    boolean matches(HttpRequest request, String path, int pathEnd) {
        return matcher.matches(request, path, pathEnd);
    }

    /**
     * One forwarding target of a {@link RouteAction}, chosen with probability {@code weight / total weight};
     * a target of weight 0 is never chosen (unless it is the only one).
     *
     * @throws IllegalStateException when the action is not a {@link RouteAction}
     */
    public WeightedCluster pickCluster() {
        if (clusters.length == 1) {
            return clusters[0];
        }
        long total = totalWeight();
        return pickCluster(total > 0 ? ThreadLocalRandom.current().nextLong(total) : 0);
    }

    /**
     * The target whose cumulative weight range holds {@code Math.floorMod(random, total weight)}: with weights
     * 90 and 10, values 0..89 pick the first and 90..99 the second. For deterministic tests and for callers
     * with their own source of randomness.
     *
     * @throws IllegalStateException when the action is not a {@link RouteAction}
     */
    public WeightedCluster pickCluster(long random) {
        if (clusters.length == 0) {
            throw new IllegalStateException("route " + name() + " does not forward: " + action());
        }
        if (clusters.length == 1) {
            return clusters[0];
        }
        long total = totalWeight();
        if (total == 0) {
            return clusters[0]; // all weights 0: validation rejects this; do not fail the request over it
        }
        long point = Math.floorMod(random, total);
        // the first index whose cumulative weight exceeds point; weight-0 targets share their predecessor's sum
        int low = 0;
        int high = clusters.length - 1;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (cumulativeWeights[mid] > point) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return clusters[low];
    }

    private long totalWeight() {
        return cumulativeWeights.length == 0 ? 0 : cumulativeWeights[cumulativeWeights.length - 1];
    }

    /**
     * Prepares {@code request} for the upstream, in this order: the prefix rewrite replaces the matched path
     * prefix (the query string is kept); the regex rewrite replaces every match in the path without the query
     * (group references are written {@code \1}, as in Envoy and Istio, or {@code $1}); the host rewrite
     * replaces the authority; then the route's request header mutation (remove, set, add).
     */
    public void applyRequestTransforms(HttpRequest request) {
        if (prefixRewrite != null) {
            PathCondition path = matcher.path();
            String current = request.path();
            if (path != null && path.startsWithMatchedPrefix(current)) {
                request.path(prefixRewrite + current.substring(path.matchedPrefixLength()));
            }
        }
        if (regexRewrite != null) {
            String current = request.path();
            int query = current.indexOf('?');
            String pathOnly = query < 0 ? current : current.substring(0, query);
            String rewritten = regexRewrite.matcher(pathOnly).replaceAll(regexReplacement);
            request.path(query < 0 ? rewritten : rewritten + current.substring(query));
        }
        if (hostRewrite != null) {
            request.authority(hostRewrite);
        }
        mutate(request.headers(), config.requestHeaders());
    }

    /** Applies the route's response header mutation (remove, set, add) to {@code response}. */
    public void applyResponseTransforms(HttpResponse response) {
        mutate(response.headers(), config.responseHeaders());
    }

    private static void mutate(Headers headers, HeaderMutation mutation) {
        if (mutation == null || mutation.isEmpty()) {
            return;
        }
        for (String name : mutation.remove()) {
            headers.remove(name);
        }
        for (HeaderMutation.Header header : mutation.set()) {
            headers.set(header.name(), header.value());
        }
        for (HeaderMutation.Header header : mutation.add()) {
            headers.add(header.name(), header.value());
        }
    }

    /** The status of a {@link RedirectAction}: its response code, 301 when unset. */
    public int redirectStatus() {
        int code = redirect().responseCode();
        return code == 0 ? 301 : code;
    }

    /**
     * The absolute {@code location} of a {@link RedirectAction} for {@code request}. Each part defaults to the
     * request's own: the scheme; the host of the authority; the port, kept only while the host is not replaced
     * and no port is given, and dropped (as Envoy does) when it is 80 under https or 443 under http; the path,
     * replaced whole by {@code pathRedirect}, or with the matched prefix replaced by {@code prefixRewrite}. The
     * query is kept unless {@code stripQuery}; a {@code pathRedirect} with its own {@code ?query} replaces it.
     *
     * @throws IllegalStateException when the action is not a {@link RedirectAction}
     */
    public String redirectLocation(HttpRequest request) {
        RedirectAction redirect = redirect();
        String scheme = redirect.scheme() != null ? redirect.scheme() : request.scheme();

        String authority = request.authority() == null ? "" : request.authority();
        int portStart = DomainIndex.portSeparator(authority);
        String host;
        String port;
        if (redirect.host() != null) {
            host = redirect.host();
            port = redirect.port() == null ? null : redirect.port().toString();
        } else {
            host = portStart < 0 ? authority : authority.substring(0, portStart);
            if (redirect.port() != null) {
                port = redirect.port().toString();
            } else {
                port = portStart < 0 ? null : authority.substring(portStart + 1);
                if (("https".equalsIgnoreCase(scheme) && "80".equals(port))
                        || ("http".equalsIgnoreCase(scheme) && "443".equals(port))) {
                    port = null;
                }
            }
        }

        String requestPath = request.path();
        int queryStart = requestPath.indexOf('?');
        String query = queryStart < 0 || redirect.stripQuery() ? "" : requestPath.substring(queryStart);
        String pathOnly = queryStart < 0 ? requestPath : requestPath.substring(0, queryStart);
        String pathAndQuery;
        if (redirect.pathRedirect() != null) {
            String target = redirect.pathRedirect();
            pathAndQuery = target.indexOf('?') >= 0 ? target : target + query;
        } else if (redirect.prefixRewrite() != null && matcher.path() != null
                && matcher.path().startsWithMatchedPrefix(pathOnly)) {
            pathAndQuery = redirect.prefixRewrite() + pathOnly.substring(matcher.path().matchedPrefixLength()) + query;
        } else {
            pathAndQuery = pathOnly + query;
        }

        StringBuilder location = new StringBuilder(scheme.length() + host.length() + pathAndQuery.length() + 10);
        location.append(scheme).append("://").append(host);
        if (port != null) {
            location.append(':').append(port);
        }
        return location.append(pathAndQuery).toString();
    }

    private RedirectAction redirect() {
        if (config.action() instanceof RedirectAction redirect) {
            return redirect;
        }
        throw new IllegalStateException("route " + name() + " does not redirect: " + action());
    }

    /**
     * Translates a substitution into {@link java.util.regex.Matcher#replaceAll} syntax: {@code \N} (Envoy,
     * Istio) and {@code $N} / {@code ${name}} (Java) refer to groups; {@code \x} is a literal x; a lone
     * {@code $} is literal.
     */
    static String javaReplacement(String substitution) {
        StringBuilder out = new StringBuilder(substitution.length() + 8);
        for (int i = 0; i < substitution.length(); i++) {
            char c = substitution.charAt(i);
            char next = i + 1 < substitution.length() ? substitution.charAt(i + 1) : 0;
            if (c == '\\') {
                if (next >= '0' && next <= '9') {
                    out.append('$').append(next);
                } else if (next == 0) {
                    out.append("\\\\");
                } else {
                    appendLiteral(out, next);
                }
                i++;
            } else if (c == '$') {
                if ((next >= '0' && next <= '9') || next == '{') {
                    out.append('$');
                } else {
                    out.append("\\$");
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static void appendLiteral(StringBuilder out, char c) {
        if (c == '\\' || c == '$') {
            out.append('\\');
        }
        out.append(c);
    }

    @Override
    public String toString() {
        return "CompiledRoute[" + virtualHostName + "/" + name() + "]";
    }
}
