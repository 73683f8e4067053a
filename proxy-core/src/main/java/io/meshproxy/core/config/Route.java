package io.meshproxy.core.config;

/**
 * A route: the first route of a virtual host whose match accepts a request decides what happens to it.
 *
 * @param name for logs and metrics; may be null
 * @param requestHeaders mutations applied to the request before it goes upstream
 * @param responseHeaders mutations applied to the response before it goes downstream
 */
public record Route(String name, RouteMatch match, Action action, HeaderMutation requestHeaders,
        HeaderMutation responseHeaders) {}
