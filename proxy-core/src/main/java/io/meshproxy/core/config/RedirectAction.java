package io.meshproxy.core.config;

import java.util.Set;

/**
 * Answer with a redirect. Null parts keep the request's own.
 *
 * <p>Validated on construction: set strings are not blank, {@code port} is null or in 1..65535,
 * {@code responseCode} is one of 301, 302, 303, 307, 308, and at most one of {@code pathRedirect} and
 * {@code prefixRewrite} is set. That a prefix rewrite comes with a PREFIX path match is checked by
 * {@link Route}.
 *
 * @param scheme the new scheme ({@code http} or {@code https}), or null
 * @param host the new host, or null
 * @param port the new port, or null
 * @param pathRedirect replaces the whole path (query kept unless {@code stripQuery})
 * @param prefixRewrite replaces the matched prefix (only with a PREFIX path match)
 * @param responseCode 301, 302, 303, 307 or 308 (the builder's default is 301)
 * @param stripQuery drop the query string from the new location
 */
public record RedirectAction(String scheme, String host, Integer port, String pathRedirect, String prefixRewrite,
        int responseCode, boolean stripQuery) implements Action {

    /** The allowed response codes. */
    public static final Set<Integer> RESPONSE_CODES = Set.of(301, 302, 303, 307, 308);

    public RedirectAction {
        Checks.nullOrNonBlank("scheme", scheme);
        Checks.nullOrNonBlank("host", host);
        if (port != null) {
            Checks.inRange("port", port, 1, 65535);
        }
        Checks.nullOrNonBlank("pathRedirect", pathRedirect);
        if (pathRedirect != null && prefixRewrite != null) {
            throw Checks.fail("pathRedirect, prefixRewrite", "at most one may be set");
        }
        if (!RESPONSE_CODES.contains(responseCode)) {
            throw Checks.fail("responseCode", "must be one of 301, 302, 303, 307, 308, was " + responseCode);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link RedirectAction}; nothing changed and code 301 unless set. */
    public static final class Builder {
        private String scheme;
        private String host;
        private Integer port;
        private String pathRedirect;
        private String prefixRewrite;
        private int responseCode = 301;
        private boolean stripQuery;

        private Builder() {}

        public Builder scheme(String scheme) {
            this.scheme = scheme;
            return this;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(Integer port) {
            this.port = port;
            return this;
        }

        public Builder pathRedirect(String pathRedirect) {
            this.pathRedirect = pathRedirect;
            return this;
        }

        public Builder prefixRewrite(String prefixRewrite) {
            this.prefixRewrite = prefixRewrite;
            return this;
        }

        public Builder responseCode(int responseCode) {
            this.responseCode = responseCode;
            return this;
        }

        public Builder stripQuery(boolean stripQuery) {
            this.stripQuery = stripQuery;
            return this;
        }

        public RedirectAction build() {
            return new RedirectAction(scheme, host, port, pathRedirect, prefixRewrite, responseCode, stripQuery);
        }
    }
}
