package io.meshproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SpiffeIdTest {
    @Test
    void istioForm() {
        SpiffeId id = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/frontend");
        assertEquals("cluster.local", id.trustDomain());
        assertEquals("/ns/default/sa/frontend", id.path());
        assertEquals(Optional.of("default"), id.namespace());
        assertEquals(Optional.of("frontend"), id.serviceAccount());
        assertEquals("cluster.local/ns/default/sa/frontend", id.principal());
        assertEquals("spiffe://cluster.local/ns/default/sa/frontend", id.toString());
        assertEquals(id, SpiffeId.of("cluster.local", "default", "frontend"));
        assertEquals(id, SpiffeId.parse(id.uri()));
    }

    @Test
    void otherPathsHaveNoNamespace() {
        SpiffeId id = SpiffeId.parse("spiffe://example.org/service/web");
        assertEquals(Optional.empty(), id.namespace());
        assertEquals(Optional.empty(), id.serviceAccount());
        assertEquals("", SpiffeId.parse("spiffe://example.org").path());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "http://cluster.local/ns/a/sa/b | scheme",
        "SPIFFE://cluster.local/ns/a/sa/b | scheme",
        "spiffe:///ns/a/sa/b | trust domain is missing",
        "spiffe://Cluster.local/ns/a | lower case",
        "spiffe://cluster.local:8080/ns/a | port",
        "spiffe://user@cluster.local/ns/a | user info",
        "spiffe://cluster.local/ns/a/ | must not end with '/'",
        "spiffe://cluster.local//ns | empty segment",
        "spiffe://cluster.local/ns/../sa | '..' is not allowed",
        "spiffe://cluster.local/ns/./sa | '.' is not allowed",
        "spiffe://cluster.local/ns?x=1 | query",
        "spiffe://cluster.local/ns#f | fragment",
        "spiffe://cluster.local/n%41 | invalid character '%'",
    })
    void invalid(String input, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpiffeId.parse(input));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void tooLong() {
        assertThrows(IllegalArgumentException.class, () -> SpiffeId.parse("spiffe://" + "a".repeat(256) + "/x"));
        assertThrows(IllegalArgumentException.class, () -> SpiffeId.parse("spiffe://td/" + "a".repeat(2048)));
    }
}
