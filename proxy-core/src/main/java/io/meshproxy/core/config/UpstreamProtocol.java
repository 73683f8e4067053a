package io.meshproxy.core.config;

/** The protocol spoken to a cluster's endpoints. HTTP2 is cleartext prior knowledge (TLS comes with proxy-tls). */
public enum UpstreamProtocol { HTTP1, HTTP2 }
