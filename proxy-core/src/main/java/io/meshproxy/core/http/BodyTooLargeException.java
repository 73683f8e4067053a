package io.meshproxy.core.http;

/** A body exceeded the limit of whoever had to hold it in memory. */
public final class BodyTooLargeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long limit;

    public BodyTooLargeException(long limit) {
        super("body larger than " + limit + " bytes", null, false, false);
        this.limit = limit;
    }

    public long limit() {
        return limit;
    }
}
