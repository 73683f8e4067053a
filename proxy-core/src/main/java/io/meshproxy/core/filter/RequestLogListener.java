package io.meshproxy.core.filter;

/**
 * Told of every finished exchange, on the request's event loop: keep it cheap and never block (hand off to
 * a bounded queue for anything slow). The telemetry module builds access logs and metrics on this.
 */
@FunctionalInterface
public interface RequestLogListener {

    void onRequestComplete(RequestLog log);
}
