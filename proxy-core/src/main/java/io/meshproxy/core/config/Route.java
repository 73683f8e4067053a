package io.meshproxy.core.config;

/**
 * A route: the first route of a virtual host whose match accepts a request decides what happens to it.
 *
 * <p>Validated on construction: {@code name} is null or not blank; {@code match} and {@code action} are
 * required; null header mutations become {@link HeaderMutation#NONE}; a prefix rewrite (of a
 * {@link RouteAction} or a {@link RedirectAction}) requires a PREFIX or EXACT path match (Envoy swaps
 * "the matched prefix (or path)"; a regex match has no prefix to swap).
 *
 * @param name for logs and metrics; may be null
 * @param match the conditions a request must meet
 * @param action what happens to a matched request
 * @param requestHeaders mutations applied to the request before it goes upstream
 * @param responseHeaders mutations applied to the response before it goes downstream
 */
public record Route(String name, RouteMatch match, Action action, HeaderMutation requestHeaders,
        HeaderMutation responseHeaders) {

    public Route {
        Checks.nullOrNonBlank("name", name);
        Checks.required("match", match);
        Checks.required("action", action);
        requestHeaders = requestHeaders == null ? HeaderMutation.NONE : requestHeaders;
        responseHeaders = responseHeaders == null ? HeaderMutation.NONE : responseHeaders;
        String prefixRewrite = action instanceof RouteAction r ? r.prefixRewrite()
                : action instanceof RedirectAction d ? d.prefixRewrite() : null;
        if (prefixRewrite != null && match.path().kind() == PathMatch.Kind.REGEX) {
            throw Checks.fail("action.prefixRewrite",
                    "requires a PREFIX or EXACT path match, the path match is REGEX");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Route}; matches every request ({@link RouteMatch#ANY}) unless a match is set; an action is required. */
    public static final class Builder {
        private String name;
        private RouteMatch match = RouteMatch.ANY;
        private Action action;
        private HeaderMutation requestHeaders = HeaderMutation.NONE;
        private HeaderMutation responseHeaders = HeaderMutation.NONE;

        private Builder() {}

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder match(RouteMatch match) {
            this.match = match;
            return this;
        }

        public Builder action(Action action) {
            this.action = action;
            return this;
        }

        public Builder requestHeaders(HeaderMutation requestHeaders) {
            this.requestHeaders = requestHeaders;
            return this;
        }

        public Builder responseHeaders(HeaderMutation responseHeaders) {
            this.responseHeaders = responseHeaders;
            return this;
        }

        public Route build() {
            return new Route(name, match, action, requestHeaders, responseHeaders);
        }
    }
}
