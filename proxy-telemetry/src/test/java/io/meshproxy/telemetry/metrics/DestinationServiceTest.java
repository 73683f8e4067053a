package io.meshproxy.telemetry.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.telemetry.WorkloadInfo;
import org.junit.jupiter.api.Test;

/** Istio's destination_service labels from cluster names. */
class DestinationServiceTest {
    @Test
    void fromIstioClusterNamesAndPlainHosts() {
        assertEquals(new DestinationService("reviews.default.svc.cluster.local", "reviews", "default"),
                DestinationService.ofCluster("outbound|9080|v2|reviews.default.svc.cluster.local"));
        assertEquals(new DestinationService("ratings.prod.svc.cluster.local", "ratings", "prod"),
                DestinationService.ofCluster("ratings.prod.svc.cluster.local"));
        assertEquals(new DestinationService("backend", "backend", "unknown"), DestinationService.ofCluster("backend"));
        assertEquals(DestinationService.UNKNOWN, DestinationService.ofCluster("inbound|9080||"));
        assertEquals(DestinationService.UNKNOWN, DestinationService.ofCluster(null));
        assertEquals(new DestinationService("reviews.bookinfo.svc.cluster.local", "reviews", "bookinfo"),
                DestinationService.ofWorkload(new WorkloadInfo("reviews-v1", "bookinfo", "reviews", "v1", null, null)));
    }
}
