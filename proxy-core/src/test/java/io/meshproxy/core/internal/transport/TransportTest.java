package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.Test;

/** Epoll where it loads, NIO otherwise or when asked: the surefire "nio-transport" run asks. */
class TransportTest {
    @Test
    void transportFollowsAvailabilityAndTheOverride() {
        String expected = "nio".equals(System.getProperty("meshproxy.transport")) || !Epoll.isAvailable()
                ? "nio" : "epoll";
        assertEquals(expected, Transport.name());
        if (System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")
                && System.getProperty("meshproxy.transport") == null) {
            assertEquals("epoll", Transport.name(), "native epoll loads on Linux: " + Epoll.unavailabilityCause());
        }
    }
}
