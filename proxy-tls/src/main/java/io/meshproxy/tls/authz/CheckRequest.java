package io.meshproxy.tls.authz;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpRequest;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The attributes of one request that authorization policies look at: the peer's mTLS principal, the source
 * IP, the destination port, the request line and headers, and the verified JWT ({@link RequestAuth}).
 * {@link #of(RequestContext, HttpRequest)} reads them from a live request; tests build one directly.
 */
public final class CheckRequest {
    final String principal;
    final byte[] sourceIp;
    final int destinationPort;
    final String method;
    final String host;
    final String rawPath;
    final Headers headers;
    final RequestAuth auth;
    private String namespace;
    private boolean namespaceDone;
    private String path;

    /**
     * @param principal the peer principal ({@code cluster.local/ns/NS/sa/SA}) or null for plaintext
     * @param sourceIp the downstream address, or null (in-process)
     * @param destinationPort the listener's port, or -1
     * @param path {@code :path}, query string included
     * @param auth the verified JWT, or null
     */
    public CheckRequest(String principal, InetAddress sourceIp, int destinationPort, String method, String host,
            String path, Headers headers, RequestAuth auth) {
        this.principal = principal;
        this.sourceIp = CidrBlock.normalize(sourceIp);
        this.destinationPort = destinationPort;
        this.method = method;
        this.host = host;
        this.rawPath = path == null ? "/" : path;
        this.headers = headers == null ? new Headers() : headers;
        this.auth = auth;
    }

    public static CheckRequest of(RequestContext ctx, HttpRequest request) {
        InetSocketAddress remote = ctx.remoteAddress();
        InetSocketAddress local = ctx.localAddress();
        return new CheckRequest(ctx.peerPrincipal(), remote == null ? null : remote.getAddress(),
                local == null ? -1 : local.getPort(), request.method(), request.authority(), request.path(),
                request.headers(), RequestAuth.of(ctx));
    }

    /** {@code source.namespace}: the NS of a principal {@code TRUST_DOMAIN/ns/NS/sa/SA}; null otherwise. */
    String namespace() {
        if (!namespaceDone) {
            namespaceDone = true;
            namespace = namespaceOf(principal);
        }
        return namespace;
    }

    static String namespaceOf(String principal) {
        if (principal == null) {
            return null;
        }
        int ns = principal.indexOf("/ns/");
        if (ns < 0) {
            return null;
        }
        int start = ns + 4;
        int end = principal.indexOf('/', start);
        if (end < 0 || !principal.startsWith("/sa/", end)) {
            return null;
        }
        return principal.substring(start, end);
    }

    /** The path policies match: no query string or fragment, {@code .} and {@code ..} segments resolved. */
    String path() {
        if (path == null) {
            path = normalizePath(rawPath);
        }
        return path;
    }

    static String normalizePath(String raw) {
        int end = raw.length();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '?' || c == '#') {
                end = i;
                break;
            }
        }
        String p = end == raw.length() ? raw : raw.substring(0, end);
        if (!p.contains("/.")) {
            return p;
        }
        // RFC 3986 section 5.2.4, as Envoy's path normalization does before RBAC sees the path.
        java.util.ArrayDeque<String> out = new java.util.ArrayDeque<>();
        String[] segments = p.split("/", -1);
        for (int i = 1; i < segments.length; i++) {
            String s = segments[i];
            boolean last = i == segments.length - 1;
            if (s.equals(".")) {
                if (last) {
                    out.addLast("");
                }
            } else if (s.equals("..")) {
                out.pollLast();
                if (last) {
                    out.addLast("");
                }
            } else {
                out.addLast(s);
            }
        }
        StringBuilder sb = new StringBuilder(p.length());
        for (String s : out) {
            sb.append('/').append(s);
        }
        return sb.length() == 0 ? "/" : sb.toString();
    }
}
