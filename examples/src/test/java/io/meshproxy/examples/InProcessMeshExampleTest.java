package io.meshproxy.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class InProcessMeshExampleTest {

    @Test
    void requestsLandAsConfigured() throws Exception {
        InProcessMeshExample.Result r = InProcessMeshExample.run();

        int v1 = r.split().getOrDefault("v1", 0);
        int v2 = r.split().getOrDefault("v2", 0);
        assertEquals(InProcessMeshExample.REQUESTS, v1 + v2, r.split()::toString);
        // 90/10 by weight: +-5 points over 1000 requests is more than five standard deviations.
        assertEquals(90.0, 100.0 * v1 / InProcessMeshExample.REQUESTS, 5.0, r.split()::toString);

        assertEquals(Map.of("v2", InProcessMeshExample.CANARY_REQUESTS), r.canary());

        assertEquals(200, r.inboundStatus());
        assertTrue(r.inboundBody().startsWith("hello from the in-JVM handler: GET /greet?name=example"), r.inboundBody());
        assertTrue(r.inboundBody().matches("(?s).*x-request-id [0-9a-f-]{36}.*"), r.inboundBody());
    }
}
