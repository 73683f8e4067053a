package io.meshproxy.config;

/**
 * What a listener of the {@code Proxy} resource is for, which the core model does not record: the core
 * listener of the same name routes (OUTBOUND) or forwards everything to the local application (INBOUND).
 *
 * @param name the listener's name, as in the core configuration
 * @param direction OUTBOUND or INBOUND
 * @param forwardTo for INBOUND, the application's {@code HOST:PORT}; null for OUTBOUND
 */
public record ListenerRole(String name, Direction direction, String forwardTo) {
    /** Istio's traffic directions. */
    public enum Direction { OUTBOUND, INBOUND }
}
