package io.meshproxy.core.http;

import java.util.Objects;

/** A response: status, header fields, a streaming body (whose trailers carry, for example, grpc-status). */
public final class HttpResponse {
    private int status;
    private final Headers headers;
    private Body body;

    public HttpResponse(int status, Headers headers, Body body) {
        this.status = checkStatus(status);
        this.headers = headers == null ? new Headers() : headers;
        this.body = body == null ? Body.empty() : body;
    }

    public static HttpResponse of(int status) {
        return new HttpResponse(status, new Headers(), Body.empty());
    }

    public static HttpResponse of(int status, String contentType, String utf8Body) {
        Headers h = new Headers();
        if (contentType != null) {
            h.set("content-type", contentType);
        }
        return new HttpResponse(status, h, Body.of(utf8Body));
    }

    public int status() {
        return status;
    }

    public HttpResponse status(int status) {
        this.status = checkStatus(status);
        return this;
    }

    public Headers headers() {
        return headers;
    }

    public Body body() {
        return body;
    }

    public HttpResponse body(Body body) {
        this.body = Objects.requireNonNull(body, "body");
        return this;
    }

    private static int checkStatus(int status) {
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status must be in 100..999, was " + status);
        }
        return status;
    }

    @Override
    public String toString() {
        return "HttpResponse[" + status + "]";
    }
}
