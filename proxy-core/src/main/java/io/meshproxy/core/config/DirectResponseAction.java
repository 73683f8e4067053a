package io.meshproxy.core.config;

/**
 * Answer locally with a fixed status and body (text/plain when a body is given).
 *
 * <p>Validated on construction: {@code status} in 200..599.
 *
 * @param status the response status, 200..599
 * @param body the response body, or null for none
 */
public record DirectResponseAction(int status, String body) implements Action {
    public DirectResponseAction {
        Checks.inRange("status", status, 200, 599);
    }

    public static DirectResponseAction of(int status, String body) {
        return new DirectResponseAction(status, body);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link DirectResponseAction}; a status is required, the body defaults to none. */
    public static final class Builder {
        private int status;
        private String body;

        private Builder() {}

        public Builder status(int status) {
            this.status = status;
            return this;
        }

        public Builder body(String body) {
            this.body = body;
            return this;
        }

        public DirectResponseAction build() {
            return new DirectResponseAction(status, body);
        }
    }
}
