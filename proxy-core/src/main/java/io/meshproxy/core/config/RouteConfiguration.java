package io.meshproxy.core.config;

import java.util.List;

/** A route table: virtual hosts chosen by the request's authority. */
public record RouteConfiguration(String name, List<VirtualHost> virtualHosts) {}
