package io.meshproxy.core.routing;

import static io.meshproxy.core.routing.RouteFixtures.forward;
import static io.meshproxy.core.routing.RouteFixtures.matchPath;
import static io.meshproxy.core.routing.RouteFixtures.prefix;
import static io.meshproxy.core.routing.RouteFixtures.route;
import static io.meshproxy.core.routing.RouteFixtures.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.config.Action;
import io.meshproxy.core.config.DirectResponseAction;
import io.meshproxy.core.config.WeightedCluster;
import io.meshproxy.core.http.HttpRequest;
import org.junit.jupiter.api.Test;

class ClusterPickTest {

    private static CompiledRoute compiled(Action action) {
        return table(route("r", matchPath(prefix("/")), action)).match(HttpRequest.get("a", "/"));
    }

    @Test
    void singleTargetIsAlwaysPickedWhateverItsWeight() {
        WeightedCluster only = new WeightedCluster("reviews", "v1", 0);
        CompiledRoute r = compiled(forward(only));
        for (int i = 0; i < 100; i++) {
            assertSame(only, r.pickCluster());
        }
        assertSame(only, r.pickCluster(12345));
    }

    @Test
    void ninetyTenSplitLandsWithinTwoPointsOverTenThousandPicks() {
        WeightedCluster v1 = new WeightedCluster("reviews", "v1", 90);
        WeightedCluster v2 = new WeightedCluster("reviews", "v2", 10);
        CompiledRoute r = compiled(forward(v1, v2));
        int toV2 = 0;
        int picks = 10_000;
        for (int i = 0; i < picks; i++) {
            WeightedCluster picked = r.pickCluster();
            assertTrue(picked == v1 || picked == v2);
            if (picked == v2) {
                toV2++;
            }
        }
        double share = 100.0 * toV2 / picks;
        assertTrue(share >= 8.0 && share <= 12.0, "v2 got " + share + "% of picks, expected 10 +- 2");
    }

    @Test
    void deterministicPickFollowsCumulativeWeights() {
        WeightedCluster a = new WeightedCluster("a", null, 90);
        WeightedCluster b = new WeightedCluster("b", null, 10);
        CompiledRoute r = compiled(forward(a, b));
        assertSame(a, r.pickCluster(0));
        assertSame(a, r.pickCluster(89));
        assertSame(b, r.pickCluster(90));
        assertSame(b, r.pickCluster(99));
        assertSame(a, r.pickCluster(100), "the value wraps around the total weight");
        assertSame(b, r.pickCluster(-1), "negative values wrap too");
    }

    @Test
    void zeroWeightTargetsAreNeverPicked() {
        WeightedCluster first = new WeightedCluster("first", null, 0);
        WeightedCluster a = new WeightedCluster("a", null, 1);
        WeightedCluster drained = new WeightedCluster("drained", null, 0);
        WeightedCluster b = new WeightedCluster("b", null, 3);
        WeightedCluster last = new WeightedCluster("last", null, 0);
        CompiledRoute r = compiled(forward(first, a, drained, b, last));
        assertSame(a, r.pickCluster(0));
        assertSame(b, r.pickCluster(1));
        assertSame(b, r.pickCluster(3));
        for (int i = 0; i < 2_000; i++) {
            WeightedCluster picked = r.pickCluster();
            assertTrue(picked == a || picked == b, "picked " + picked);
        }
    }

    @Test
    void relativeWeightsNeedNotSumToHundred() {
        WeightedCluster a = new WeightedCluster("a", null, 1);
        WeightedCluster b = new WeightedCluster("b", null, 1);
        WeightedCluster c = new WeightedCluster("c", null, 2);
        CompiledRoute r = compiled(forward(a, b, c));
        assertEquals("a", r.pickCluster(0).cluster());
        assertEquals("b", r.pickCluster(1).cluster());
        assertEquals("c", r.pickCluster(2).cluster());
        assertEquals("c", r.pickCluster(3).cluster());
    }

    @Test
    void pickingOnARouteThatDoesNotForwardFailsLoudly() {
        CompiledRoute r = compiled(new DirectResponseAction(503, "down"));
        assertThrows(IllegalStateException.class, r::pickCluster);
    }
}
