package io.meshproxy.core.config;

/**
 * Answer with a redirect. Null parts keep the request's own.
 *
 * @param responseCode 301, 302, 303, 307 or 308
 * @param pathRedirect replaces the whole path (query kept unless {@code stripQuery})
 * @param prefixRewrite replaces the matched prefix (only with a PREFIX path match)
 */
public record RedirectAction(String scheme, String host, Integer port, String pathRedirect, String prefixRewrite,
        int responseCode, boolean stripQuery) implements Action {}
