package io.meshproxy.core.config;

/** What a matched route does: forward to clusters, redirect, or answer directly. */
public sealed interface Action permits RouteAction, RedirectAction, DirectResponseAction {}
