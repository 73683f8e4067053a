package io.meshproxy.core.config;

/** Answer locally with a fixed status and body (text/plain when a body is given). */
public record DirectResponseAction(int status, String body) implements Action {}
