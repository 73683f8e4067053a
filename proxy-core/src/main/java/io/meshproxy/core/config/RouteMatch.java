package io.meshproxy.core.config;

import java.util.List;

/**
 * What a request must look like for a route to take it: all conditions hold (AND).
 *
 * @param path the path condition (the query string is not part of the path)
 * @param headers header conditions; pseudo-headers {@code :method}, {@code :authority}, {@code :scheme}
 *     and {@code :path} may be named too
 * @param queryParameters query parameter conditions
 */
public record RouteMatch(PathMatch path, List<HeaderMatcher> headers, List<QueryParameterMatcher> queryParameters) {}
