package io.meshproxy.core.config;

/**
 * The admin server ({@code /ready}, {@code /config_dump}, {@code /clusters}, ...).
 *
 * <p>Validated on construction: a null address becomes 127.0.0.1; a set address is not blank; port in 0..65535.
 *
 * @param address bind address, 127.0.0.1 by default: the admin API can drain the proxy, so it is not
 *     exposed beyond the host unless asked
 * @param port 0..65535; 0 picks a free port
 */
public record AdminConfig(String address, int port) {
    /** The default bind address. */
    public static final String DEFAULT_ADDRESS = "127.0.0.1";

    public AdminConfig {
        address = address == null ? DEFAULT_ADDRESS : Checks.nonBlank("address", address);
        Checks.inRange("port", port, 0, 65535);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link AdminConfig}; 127.0.0.1 and port 0 (a free port) unless set. */
    public static final class Builder {
        private String address;
        private int port;

        private Builder() {}

        public Builder address(String address) {
            this.address = address;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public AdminConfig build() {
            return new AdminConfig(address, port);
        }
    }
}
