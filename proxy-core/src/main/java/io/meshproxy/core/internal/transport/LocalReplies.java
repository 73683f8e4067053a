package io.meshproxy.core.internal.transport;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.BodyTooLargeException;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.http.LocalReplyException;
import io.meshproxy.core.http.ResponseFlag;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns a failure of the chain into the local reply a client sees, recording flag and details. */
public final class LocalReplies {
    private static final Logger LOG = LoggerFactory.getLogger(LocalReplies.class);

    private LocalReplies() {}

    public static HttpResponse toResponse(RequestContext ctx, Throwable failure) {
        return toResponse(ctx, failure, false);
    }

    /**
     * As {@link #toResponse(RequestContext, Throwable)}; for a gRPC request ({@code grpc}) the reply is gRPC's
     * trailers-only form, as Envoy sends its local replies to gRPC clients: HTTP 200, {@code content-type:
     * application/grpc}, {@code grpc-status} from the HTTP status by gRPC's mapping (400 INTERNAL, 401
     * UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, others UNKNOWN) except
     * that a timeout ({@code UT}) is DEADLINE_EXCEEDED, as Envoy answers since envoyproxy/envoy#44479 (a client must not retry an
     * expired deadline), and {@code grpc-message} the details.
     */
    public static HttpResponse toResponse(RequestContext ctx, Throwable failure, boolean grpc) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        int status;
        String details;
        if (t instanceof LocalReplyException lre) {
            status = lre.status();
            details = lre.details();
            if (lre.flag() != null) {
                ctx.addResponseFlag(lre.flag());
            }
        } else if (t instanceof BodyTooLargeException) {
            status = 413;
            details = "request_payload_too_large";
        } else {
            LOG.warn("request {} failed in the filter chain", ctx.requestId(), t);
            status = 500;
            details = "filter_chain_error";
        }
        ctx.responseCodeDetails(details);
        if (grpc) {
            boolean timeout = t instanceof LocalReplyException lre && lre.flag() == ResponseFlag.UT;
            return grpc(timeout ? GRPC_DEADLINE_EXCEEDED : grpcStatus(status), details);
        }
        return of(status, details);
    }

    static final int GRPC_DEADLINE_EXCEEDED = 4;

    /** gRPC's HTTP-to-gRPC status mapping (doc/http-grpc-status-mapping.md), as Envoy applies it. */
    static int grpcStatus(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> 13; // INTERNAL
            case 401 -> 16; // UNAUTHENTICATED
            case 403 -> 7; // PERMISSION_DENIED
            case 404 -> 12; // UNIMPLEMENTED
            case 429, 502, 503, 504 -> 14; // UNAVAILABLE
            default -> 2; // UNKNOWN
        };
    }

    /** A trailers-only gRPC answer. */
    public static HttpResponse grpc(int grpcStatus, String message) {
        Headers h = new Headers();
        h.set("content-type", "application/grpc");
        h.set("grpc-status", Integer.toString(grpcStatus));
        if (message != null && !message.isEmpty()) {
            h.set("grpc-message", percentEncode(message));
        }
        return new HttpResponse(200, h, Body.empty());
    }

    /** Whether a request's {@code content-type} makes it gRPC ({@code application/grpc}, {@code application/grpc+proto}, ...). */
    public static boolean isGrpc(String contentType) {
        return contentType != null && contentType.regionMatches(true, 0, "application/grpc", 0, 16)
                && (contentType.length() == 16 || contentType.charAt(16) == '+' || contentType.charAt(16) == ';');
    }

    /** gRPC's grpc-message encoding: printable ASCII but '%' as is, every other byte of UTF-8 as %XX. */
    static String percentEncode(String message) {
        byte[] bytes = message.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        StringBuilder sb = null;
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xFF;
            boolean plain = b >= 0x20 && b <= 0x7E && b != '%';
            if (plain && sb == null) {
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(bytes.length + 8).append(message, 0, i);
            }
            if (plain) {
                sb.append((char) b);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
            }
        }
        return sb == null ? message : sb.toString();
    }

    public static HttpResponse of(int status, String text) {
        Headers h = new Headers();
        h.set("content-type", "text/plain");
        return new HttpResponse(status, h, Body.of(text));
    }
}
