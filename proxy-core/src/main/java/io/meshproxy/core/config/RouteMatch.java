package io.meshproxy.core.config;

import java.util.ArrayList;
import java.util.List;

/**
 * What a request must look like for a route to take it: all conditions hold (AND).
 *
 * <p>On construction a null path becomes {@link PathMatch#ANY} (prefix {@code /}) and null lists become
 * empty; elements must be non-null.
 *
 * @param path the path condition (the query string is not part of the path)
 * @param headers header conditions; pseudo-headers {@code :method}, {@code :authority}, {@code :scheme}
 *     and {@code :path} may be named too
 * @param queryParameters query parameter conditions
 */
public record RouteMatch(PathMatch path, List<HeaderMatcher> headers, List<QueryParameterMatcher> queryParameters) {
    /** Every request. */
    public static final RouteMatch ANY = new RouteMatch(PathMatch.ANY, List.of(), List.of());

    public RouteMatch {
        path = path == null ? PathMatch.ANY : path;
        headers = Checks.list("headers", headers);
        queryParameters = Checks.list("queryParameters", queryParameters);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link RouteMatch}; every request matches unless conditions are added. */
    public static final class Builder {
        private PathMatch path;
        private final List<HeaderMatcher> headers = new ArrayList<>();
        private final List<QueryParameterMatcher> queryParameters = new ArrayList<>();

        private Builder() {}

        public Builder path(PathMatch path) {
            this.path = path;
            return this;
        }

        /** The path starts with {@code prefix}. */
        public Builder pathPrefix(String prefix) {
            this.path = Checks.prefixed("path", () -> PathMatch.prefix(prefix));
            return this;
        }

        /** The path equals {@code path}. */
        public Builder pathExact(String path) {
            this.path = Checks.prefixed("path", () -> PathMatch.exact(path));
            return this;
        }

        /** The whole path matches {@code regex}. */
        public Builder pathRegex(String regex) {
            this.path = Checks.prefixed("path", () -> PathMatch.regex(regex));
            return this;
        }

        /** Replaces all header conditions. */
        public Builder headers(List<HeaderMatcher> headers) {
            this.headers.clear();
            this.headers.addAll(headers);
            return this;
        }

        /** Adds a header condition. */
        public Builder header(HeaderMatcher header) {
            headers.add(header);
            return this;
        }

        /** Replaces all query parameter conditions. */
        public Builder queryParameters(List<QueryParameterMatcher> queryParameters) {
            this.queryParameters.clear();
            this.queryParameters.addAll(queryParameters);
            return this;
        }

        /** Adds a query parameter condition. */
        public Builder queryParameter(QueryParameterMatcher queryParameter) {
            queryParameters.add(queryParameter);
            return this;
        }

        public RouteMatch build() {
            return new RouteMatch(path, headers, queryParameters);
        }
    }
}
