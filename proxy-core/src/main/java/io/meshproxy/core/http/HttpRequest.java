package io.meshproxy.core.http;

import java.util.Objects;

/**
 * A request flowing through the mesh: the pseudo-header fields, the regular header fields, and a streaming
 * body. Filters may change any part of it before passing it on. Belongs to one event loop; not thread-safe.
 */
public final class HttpRequest {
    private String method;
    private String scheme;
    private String authority;
    private String path;
    private final Headers headers;
    private Body body;

    public HttpRequest(String method, String scheme, String authority, String path, Headers headers, Body body) {
        this.method = Objects.requireNonNull(method, "method");
        this.scheme = scheme == null ? "http" : scheme;
        this.authority = authority;
        this.path = Objects.requireNonNull(path, "path");
        this.headers = headers == null ? new Headers() : headers;
        this.body = body == null ? Body.empty() : body;
    }

    public static HttpRequest get(String authority, String path) {
        return new HttpRequest("GET", "http", authority, path, new Headers(), Body.empty());
    }

    public static HttpRequest post(String authority, String path, Body body) {
        return new HttpRequest("POST", "http", authority, path, new Headers(), body);
    }

    /** {@code :method}, e.g. GET. */
    public String method() {
        return method;
    }

    public HttpRequest method(String method) {
        this.method = Objects.requireNonNull(method, "method");
        return this;
    }

    /** {@code :scheme}, http or https. */
    public String scheme() {
        return scheme;
    }

    public HttpRequest scheme(String scheme) {
        this.scheme = Objects.requireNonNull(scheme, "scheme");
        return this;
    }

    /** {@code :authority} (the {@code Host} header on HTTP/1.1); may include a port; null if the client sent none. */
    public String authority() {
        return authority;
    }

    public HttpRequest authority(String authority) {
        this.authority = authority;
        return this;
    }

    /** {@code :path}: the path and the query string. */
    public String path() {
        return path;
    }

    public HttpRequest path(String path) {
        this.path = Objects.requireNonNull(path, "path");
        return this;
    }

    public Headers headers() {
        return headers;
    }

    public Body body() {
        return body;
    }

    /** Replaces the body; the old one becomes the caller's to discard or wrap. */
    public HttpRequest body(Body body) {
        this.body = Objects.requireNonNull(body, "body");
        return this;
    }

    @Override
    public String toString() {
        return method + " " + scheme + "://" + authority + path;
    }
}
