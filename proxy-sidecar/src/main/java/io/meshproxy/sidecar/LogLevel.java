package io.meshproxy.sidecar;

import java.util.Locale;

/**
 * The sidecar's log level, applied to slf4j-simple through its system properties. slf4j-simple reads them
 * once, when the first logger is created, so {@link #apply()} must run before anything logs: the command
 * line parses its arguments, applies the level, and only then touches the proxy.
 */
public enum LogLevel {
    ERROR, WARN, INFO, DEBUG, TRACE;

    static final String DEFAULT_LEVEL_PROPERTY = "org.slf4j.simpleLogger.defaultLogLevel";
    static final String NETTY_LEVEL_PROPERTY = "org.slf4j.simpleLogger.log.io.netty";

    /** Sets slf4j-simple's level for every logger; Netty's own loggers stay at warn unless error or trace is asked for. */
    public void apply() {
        String name = name().toLowerCase(Locale.ROOT);
        System.setProperty(DEFAULT_LEVEL_PROPERTY, name);
        // Netty at debug prints a survey of its system properties at start-up: noise, unless tracing.
        System.setProperty(NETTY_LEVEL_PROPERTY, this == ERROR || this == TRACE ? name : "warn");
    }

    /** {@code level} (any case) as a LogLevel. */
    public static LogLevel parse(String level) {
        try {
            return valueOf(level.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown log level '" + level + "' (error, warn, info, debug, trace)");
        }
    }
}
