package io.meshproxy.core.http;

/**
 * Fails a request with the status, Envoy response flag and response-code details the downstream should
 * see (503 UF, 504 UT, ...). Thrown or completed exceptionally anywhere in the chain; the listener turns it
 * into a local reply. Carries no stack trace: it is control flow on the data path.
 */
public final class LocalReplyException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final transient ResponseFlag flag;

    /** A reply with an Envoy flag; the message is Envoy's text for it. */
    public LocalReplyException(int status, ResponseFlag flag) {
        this(status, flag, flag.details());
    }

    /**
     * @param flag the Envoy response flag, or null where Envoy sets none (413, 408, a filter's own reply)
     * @param details Envoy-style response code details, also the reply body
     */
    public LocalReplyException(int status, ResponseFlag flag, String details) {
        super(details, null, false, false);
        this.status = status;
        this.flag = flag;
    }

    public int status() {
        return status;
    }

    /** The response flag, or null. */
    public ResponseFlag flag() {
        return flag;
    }

    public String details() {
        return getMessage();
    }
}
