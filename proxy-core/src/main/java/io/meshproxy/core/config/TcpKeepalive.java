package io.meshproxy.core.config;

import java.time.Duration;

/**
 * TCP keep-alive probes on upstream connections (Istio {@code tcp.tcpKeepalive}). A zero duration or count
 * keeps the operating system's value.
 *
 * @param time idle time before the first probe (OS default 7200 s)
 * @param interval time between probes (OS default 75 s)
 * @param probes unanswered probes before the connection is dead (OS default 9)
 */
public record TcpKeepalive(Duration time, Duration interval, int probes) {
    public TcpKeepalive {
        time = Checks.duration("time", time, Duration.ZERO);
        interval = Checks.duration("interval", interval, Duration.ZERO);
        Checks.atLeast("probes", probes, 0);
    }
}
