package io.meshproxy.core;

import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.internal.transport.RetryTestSupport;
import org.junit.jupiter.api.BeforeAll;

/**
 * Every gRPC test of {@link GrpcPassthroughTest} again, on a route with Istio's default retry policy — the
 * sidecar's routes all carry one — so that streaming calls, flow control, deadlines and cancellation are proven
 * through the retrying upstream call and its request-body replay buffer (which large and endless streams
 * outgrow), not only through the plain path.
 */
class GrpcPassthroughWithRetriesTest extends GrpcPassthroughTest {

    @BeforeAll
    static void start() throws Exception {
        startWith(port -> RetryTestSupport.config(RetryPolicy.ISTIO_DEFAULT, UpstreamProtocol.HTTP2, port));
    }
}
