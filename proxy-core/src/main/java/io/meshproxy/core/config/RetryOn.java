package io.meshproxy.core.config;

import java.util.Locale;

/** Envoy's {@code retry_on} conditions (Istio's {@code retries.retryOn}), by their Envoy tokens. */
public enum RetryOn {
    /** Any 5xx answer, and no answer at all: connect failure, reset, refused stream, per-try timeout. */
    FIVE_XX("5xx"),
    /** 502, 503 or 504, and no answer at all (connect failure, reset, per-try timeout). */
    GATEWAY_ERROR("gateway-error"),
    /** No answer: the connection or stream was reset or closed, or the per-try timeout expired. */
    RESET("reset"),
    /** The connection could not be established (or its connect timed out). */
    CONNECT_FAILURE("connect-failure"),
    /** The upstream refused the HTTP/2 stream (REFUSED_STREAM) before processing it. */
    REFUSED_STREAM("refused-stream"),
    /** 409 Conflict. */
    RETRIABLE_4XX("retriable-4xx"),
    /** A status in the policy's {@code retriableStatusCodes}. */
    RETRIABLE_STATUS_CODES("retriable-status-codes"),
    /** gRPC status CANCELLED (1) in the response headers. */
    GRPC_CANCELLED("cancelled"),
    /** gRPC status DEADLINE_EXCEEDED (4). */
    GRPC_DEADLINE_EXCEEDED("deadline-exceeded"),
    /** gRPC status INTERNAL (13). */
    GRPC_INTERNAL("internal"),
    /** gRPC status RESOURCE_EXHAUSTED (8). */
    GRPC_RESOURCE_EXHAUSTED("resource-exhausted"),
    /** gRPC status UNAVAILABLE (14). */
    GRPC_UNAVAILABLE("unavailable");

    private final String token;

    RetryOn(String token) {
        this.token = token;
    }

    /** The Envoy token, e.g. {@code connect-failure}. */
    public String token() {
        return token;
    }

    /** The condition named by an Envoy token (case-insensitive), or null when there is none. */
    public static RetryOn fromToken(String token) {
        String t = token.trim().toLowerCase(Locale.ROOT);
        for (RetryOn r : values()) {
            if (r.token.equals(t)) {
                return r;
            }
        }
        return null;
    }
}
