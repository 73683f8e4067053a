package io.meshproxy.core.resilience;

import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.http.ResponseFlag;

/**
 * The one place that decides what an upstream attempt's result means: {@link #classify(int, int)} for an
 * answer, {@link #classifyLocal(ResponseFlag)} for no answer, and {@link #retriable} for whether a route's
 * retry policy retries it. gRPC statuses in the response headers count as the HTTP status Envoy maps them to
 * (UNAVAILABLE as 503, INTERNAL as 500, ...), so a gRPC service's failures eject and open breakers like any
 * other. Stateless; allocation-free.
 */
public final class ResponseClassifier {
    /** No {@code grpc-status} in the response headers. */
    public static final int NO_GRPC_STATUS = -1;

    private ResponseClassifier() {}

    /** The outcome of an answer with {@code status} and, when present, a header {@code grpcStatus}. */
    public static Outcome classify(int status, int grpcStatus) {
        int effective = grpcStatus >= 0 && status == 200 ? grpcToHttp(grpcStatus) : status;
        if (effective < 500) {
            return Outcome.SUCCESS;
        }
        return effective <= 504 && effective >= 502 ? Outcome.GATEWAY_ERROR : Outcome.ERROR_5XX;
    }

    /** The outcome of an attempt that ended without an answer, by the flag it ended with. */
    public static Outcome classifyLocal(ResponseFlag flag) {
        if (flag == null) {
            return Outcome.RESET;
        }
        return switch (flag) {
            case UF -> Outcome.CONNECT_FAILURE;
            case UT, SI -> Outcome.TIMEOUT;
            default -> Outcome.RESET;
        };
    }

    /**
     * Whether {@code policy} retries an attempt that came to {@code outcome} (with {@code status} and
     * {@code grpcStatus} when the upstream answered, else 0 and {@link #NO_GRPC_STATUS}). Envoy's meanings:
     * {@code 5xx} covers every failure outcome; {@code gateway-error} 502/503/504 and every local-origin
     * failure; {@code reset} resets, refused streams and timeouts; {@code connect-failure} connect failures;
     * {@code refused-stream} refused streams; {@code retriable-4xx} 409; {@code retriable-status-codes} the
     * listed statuses; the gRPC conditions the header {@code grpc-status}.
     */
    public static boolean retriable(RetryPolicy policy, Outcome outcome, int status, int grpcStatus) {
        if (outcome.isLocalOrigin()) {
            if (policy.on(RetryOn.FIVE_XX) || policy.on(RetryOn.GATEWAY_ERROR)) {
                return true;
            }
            return switch (outcome) {
                case CONNECT_FAILURE -> policy.on(RetryOn.CONNECT_FAILURE);
                case REFUSED_STREAM -> policy.on(RetryOn.REFUSED_STREAM) || policy.on(RetryOn.RESET);
                default -> policy.on(RetryOn.RESET);
            };
        }
        if (outcome == Outcome.ERROR_5XX && status >= 500 && policy.on(RetryOn.FIVE_XX)) {
            return true;
        }
        if (outcome == Outcome.GATEWAY_ERROR && status >= 500
                && (policy.on(RetryOn.FIVE_XX) || policy.on(RetryOn.GATEWAY_ERROR))) {
            return true;
        }
        if (status == 409 && policy.on(RetryOn.RETRIABLE_4XX)) {
            return true;
        }
        if (policy.on(RetryOn.RETRIABLE_STATUS_CODES) && policy.retriableStatusCodes().contains(status)) {
            return true;
        }
        if (grpcStatus >= 0) {
            return switch (grpcStatus) {
                case 1 -> policy.on(RetryOn.GRPC_CANCELLED);
                case 4 -> policy.on(RetryOn.GRPC_DEADLINE_EXCEEDED);
                case 8 -> policy.on(RetryOn.GRPC_RESOURCE_EXHAUSTED);
                case 13 -> policy.on(RetryOn.GRPC_INTERNAL);
                case 14 -> policy.on(RetryOn.GRPC_UNAVAILABLE);
                default -> false;
            };
        }
        return false;
    }

    /** Envoy's mapping of a gRPC status to the HTTP status it stands for (grpc/status.cc). */
    public static int grpcToHttp(int grpcStatus) {
        return switch (grpcStatus) {
            case 0 -> 200; // OK
            case 1 -> 499; // CANCELLED
            case 3, 9, 11 -> 400; // INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE
            case 4 -> 504; // DEADLINE_EXCEEDED
            case 5 -> 404; // NOT_FOUND
            case 6, 10 -> 409; // ALREADY_EXISTS, ABORTED
            case 7 -> 403; // PERMISSION_DENIED
            case 8 -> 429; // RESOURCE_EXHAUSTED
            case 12 -> 501; // UNIMPLEMENTED
            case 14 -> 503; // UNAVAILABLE
            case 16 -> 401; // UNAUTHENTICATED
            default -> 500; // UNKNOWN, INTERNAL, DATA_LOSS and anything else
        };
    }
}
