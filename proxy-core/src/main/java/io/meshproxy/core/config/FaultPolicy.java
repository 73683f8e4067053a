package io.meshproxy.core.config;

import java.time.Duration;

/**
 * Fault injection on a route (Istio's {@code http[].fault}, Envoy's fault filter): a share of requests is
 * delayed before going upstream, a share is answered with an error without going upstream at all. The delay
 * comes first; a delayed request may still be aborted. Delays are flagged DI, aborts FI.
 *
 * @param delay or null
 * @param abort or null
 */
public record FaultPolicy(Delay delay, Abort abort) {
    public FaultPolicy {
        if (delay == null && abort == null) {
            throw Checks.fail("delay, abort", "at least one must be set");
        }
    }

    /**
     * @param fixedDelay how long, more than 0
     * @param percentage share of requests delayed, 0..100
     */
    public record Delay(Duration fixedDelay, double percentage) {
        public Delay {
            Checks.required("fixedDelay", fixedDelay);
            if (fixedDelay.isNegative() || fixedDelay.isZero()) {
                throw Checks.fail("fixedDelay", "must be more than 0");
            }
            percent(percentage);
        }
    }

    /**
     * Exactly one of {@code httpStatus} and {@code grpcStatus} is set (the other is -1). A gRPC abort answers
     * HTTP 200 with {@code grpc-status} (a trailers-only response), as Envoy does.
     *
     * @param httpStatus 200..599, or -1
     * @param grpcStatus 0..16, or -1
     * @param percentage share of requests aborted, 0..100
     */
    public record Abort(int httpStatus, int grpcStatus, double percentage) {
        public Abort {
            if ((httpStatus == -1) == (grpcStatus == -1)) {
                throw Checks.fail("httpStatus, grpcStatus", "exactly one must be set");
            }
            if (httpStatus != -1) {
                Checks.inRange("httpStatus", httpStatus, 200, 599);
            } else {
                Checks.inRange("grpcStatus", grpcStatus, 0, 16);
            }
            percent(percentage);
        }

        public static Abort http(int status, double percentage) {
            return new Abort(status, -1, percentage);
        }

        public static Abort grpc(int status, double percentage) {
            return new Abort(-1, status, percentage);
        }
    }

    private static void percent(double p) {
        if (!(p >= 0 && p <= 100)) {
            throw Checks.fail("percentage", "must be in 0..100, was " + p);
        }
    }
}
