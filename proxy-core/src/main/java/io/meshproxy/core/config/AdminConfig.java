package io.meshproxy.core.config;

/**
 * The admin server ({@code /ready}, {@code /config_dump}, {@code /clusters}, ...).
 *
 * @param address bind address, 127.0.0.1 by default: the admin API can drain the proxy, so it is not
 *     exposed beyond the host unless asked
 * @param port 0..65535; 0 picks a free port
 */
public record AdminConfig(String address, int port) {}
