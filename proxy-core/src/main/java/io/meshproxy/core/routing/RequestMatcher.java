package io.meshproxy.core.routing;

import io.meshproxy.core.config.HeaderMatcher;
import io.meshproxy.core.config.QueryParameterMatcher;
import io.meshproxy.core.config.RouteMatch;
import io.meshproxy.core.http.HttpRequest;
import java.util.List;

/**
 * A compiled {@link RouteMatch}: the path, every header and every query parameter condition must hold.
 * Conditions are checked cheapest first (path, headers, query), and the query string is only looked at
 * when the route has query conditions. Immutable.
 */
final class RequestMatcher {

    private final PathCondition path;
    private final HeaderCondition[] headers;
    private final QueryParameterCondition[] queryParameters;

    RequestMatcher(RouteMatch config) {
        this.path = config.path() == null ? null : new PathCondition(config.path());
        List<HeaderMatcher> h = config.headers() == null ? List.of() : config.headers();
        this.headers = h.stream().map(HeaderCondition::new).toArray(HeaderCondition[]::new);
        List<QueryParameterMatcher> q = config.queryParameters() == null ? List.of() : config.queryParameters();
        this.queryParameters = q.stream().map(QueryParameterCondition::new).toArray(QueryParameterCondition[]::new);
    }

    /** The path condition, or null when the route takes any path. */
    PathCondition path() {
        return path;
    }

    /**
     * @param requestPath the request's {@code :path}
     * @param pathEnd the index of its '?', or its length when it has no query
     */
    boolean matches(HttpRequest request, String requestPath, int pathEnd) {
        if (path != null && !path.matches(requestPath, pathEnd)) {
            return false;
        }
        for (HeaderCondition header : headers) {
            if (!header.matches(request)) {
                return false;
            }
        }
        if (queryParameters.length > 0) {
            if (pathEnd == requestPath.length()) {
                return false; // no query string: no parameter is present
            }
            for (QueryParameterCondition parameter : queryParameters) {
                if (!parameter.matches(requestPath, pathEnd)) {
                    return false;
                }
            }
        }
        return true;
    }
}
