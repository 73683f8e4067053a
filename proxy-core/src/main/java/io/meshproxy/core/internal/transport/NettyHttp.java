package io.meshproxy.core.internal.transport;

import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.buffer.Unpooled;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * Conversions between Netty's HTTP messages and meshproxy's, with the header hygiene Envoy applies as a
 * sidecar: hop-by-hop fields removed (RFC 9110 §7.6.1, plus every field the {@code Connection} header names),
 * {@code te} kept only as {@code trailers} (gRPC needs it), Netty's HTTP/2 extension fields dropped, and
 * {@code Host} turned into the {@code :authority} of the request and back.
 */
public final class NettyHttp {
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString HTTP2_SETTINGS = AsciiString.cached("http2-settings");
    private static final AsciiString X_HTTP2_SCHEME = HttpConversionUtil.ExtensionHeaderNames.SCHEME.text();
    private static final AsciiString X_HTTP2_STREAM_ID = HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text();
    private static final AsciiString X_HTTP2_WEIGHT = HttpConversionUtil.ExtensionHeaderNames.STREAM_WEIGHT.text();
    private static final AsciiString X_HTTP2_DEP = HttpConversionUtil.ExtensionHeaderNames.STREAM_DEPENDENCY_ID.text();
    private static final AsciiString X_HTTP2_PATH = HttpConversionUtil.ExtensionHeaderNames.PATH.text();

    private NettyHttp() {}

    /** Removes hop-by-hop and Netty-internal fields in place. */
    public static void stripHopByHop(HttpHeaders h) {
        if (h.isEmpty()) {
            return;
        }
        List<String> connection = h.getAll(HttpHeaderNames.CONNECTION);
        if (!connection.isEmpty()) {
            for (String value : connection) {
                for (String token : value.split(",")) {
                    String name = token.trim();
                    if (!name.isEmpty() && !name.equalsIgnoreCase("te")) {
                        h.remove(name);
                    }
                }
            }
            h.remove(HttpHeaderNames.CONNECTION);
        }
        h.remove(KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.UPGRADE);
        h.remove(HTTP2_SETTINGS);
        h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
        String te = h.get(HttpHeaderNames.TE);
        if (te != null && !te.toLowerCase(java.util.Locale.ROOT).contains("trailers")) {
            h.remove(HttpHeaderNames.TE);
        } else if (te != null) {
            h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        h.remove(X_HTTP2_STREAM_ID);
        h.remove(X_HTTP2_WEIGHT);
        h.remove(X_HTTP2_DEP);
        h.remove(X_HTTP2_PATH);
    }

    /**
     * A downstream request head as meshproxy's request; the Netty headers are wrapped, not copied.
     *
     * @param defaultScheme the scheme of the downstream connection (http or https)
     */
    public static HttpRequest toRequest(io.netty.handler.codec.http.HttpRequest msg, String defaultScheme, Body body) {
        HttpHeaders h = msg.headers();
        String scheme = h.get(X_HTTP2_SCHEME);
        if (scheme != null) {
            h.remove(X_HTTP2_SCHEME);
        } else {
            scheme = defaultScheme;
        }
        String authority = h.get(HttpHeaderNames.HOST);
        h.remove(HttpHeaderNames.HOST);
        stripHopByHop(h);
        h.remove(HttpHeaderNames.EXPECT); // 100-continue is answered by the listener, as Envoy does
        String uri = msg.uri();
        if (!uri.startsWith("/") && !uri.equals("*")) {
            // absolute-form request target (a client talking to a proxy): keep path, take the authority
            int schemeEnd = uri.indexOf("://");
            if (schemeEnd > 0) {
                int pathStart = uri.indexOf('/', schemeEnd + 3);
                if (authority == null) {
                    authority = uri.substring(schemeEnd + 3, pathStart < 0 ? uri.length() : pathStart);
                }
                uri = pathStart < 0 ? "/" : uri.substring(pathStart);
            }
        }
        return new HttpRequest(msg.method().name(), scheme, authority, uri, HeadersBridge.wrap(h), body);
    }

    /**
     * meshproxy's request as the head to send upstream: the same header object (now with {@code Host}), and
     * framing headers chosen for HTTP/1.1 from what is known of the body.
     *
     * @param full whether the request has no body at all, so the head alone ends the stream
     */
    public static io.netty.handler.codec.http.HttpRequest toNettyRequest(HttpRequest req, boolean full) {
        HttpHeaders h = HeadersBridge.unwrap(req.headers());
        if (req.authority() != null) {
            h.set(HttpHeaderNames.HOST, req.authority());
        }
        HttpMethod method = HttpMethod.valueOf(req.method());
        long length = req.body().contentLength();
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        if (full) {
            if (length == 0 && (method == HttpMethod.POST || method == HttpMethod.PUT || method == HttpMethod.PATCH)) {
                h.set(HttpHeaderNames.CONTENT_LENGTH, "0");
            } else {
                h.remove(HttpHeaderNames.CONTENT_LENGTH);
            }
            return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, req.path(), Unpooled.EMPTY_BUFFER,
                    h, EmptyHttpHeaders.INSTANCE);
        }
        if (length >= 0) {
            h.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length));
        } else {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, req.path(), h);
    }

    /** An upstream response head as meshproxy's response; headers wrapped, hop-by-hop fields removed. */
    public static HttpResponse toResponse(io.netty.handler.codec.http.HttpResponse msg, Body body) {
        HttpHeaders h = msg.headers();
        stripHopByHop(h);
        h.remove(X_HTTP2_SCHEME);
        return new HttpResponse(msg.status().code(), HeadersBridge.wrap(h), body);
    }

    /**
     * meshproxy's response as the head to send downstream.
     *
     * @param full the head alone ends the stream (no body, no trailers)
     * @param headRequest the request was HEAD: framing headers are left as the upstream sent them
     * @param close add {@code Connection: close} (HTTP/1.1 only)
     */
    public static io.netty.handler.codec.http.HttpResponse toNettyResponse(HttpResponse resp, boolean full,
            boolean headRequest, boolean http1, boolean close) {
        Headers headers = resp.headers();
        HttpHeaders h = HeadersBridge.unwrap(headers);
        HttpResponseStatus status = HttpResponseStatus.valueOf(resp.status());
        int code = resp.status();
        boolean bodyless = headRequest || code == 204 || code == 304 || code < 200;
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        if (!headRequest) {
            long length = resp.body().contentLength();
            if (bodyless) {
                if (code == 204 || code < 200) {
                    h.remove(HttpHeaderNames.CONTENT_LENGTH);
                }
            } else if (full) {
                if (http1) {
                    h.set(HttpHeaderNames.CONTENT_LENGTH, "0"); // HTTP/2 ends the stream with the headers instead
                }
            } else if (length >= 0) {
                h.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length));
            } else {
                h.remove(HttpHeaderNames.CONTENT_LENGTH);
                if (http1) {
                    h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                }
            }
        }
        if (http1 && close) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        if (full) {
            return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER, h,
                    EmptyHttpHeaders.INSTANCE);
        }
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, h);
    }
}
