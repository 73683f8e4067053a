package io.meshproxy.benchmarks.harness;

/** The protocol of the load: HTTP/1.1 (one request at a time per connection) or HTTP/2 with prior knowledge. */
public enum Protocol {
    HTTP1("HTTP/1.1"),
    H2("HTTP/2 (h2c, prior knowledge)");

    private final String label;

    Protocol(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** {@code http1} or {@code h2}. */
    public static Protocol parse(String s) {
        return switch (s) {
            case "http1", "http/1.1", "h1" -> HTTP1;
            case "h2", "h2c", "http2" -> H2;
            default -> throw new IllegalArgumentException("--protocol: http1 or h2, was '" + s + "'");
        };
    }
}
