package io.meshproxy.tls;

/** Which TLS implementation a context runs on. */
public enum TlsProvider {
    /** BoringSSL through netty-tcnative (Netty's OpenSSL provider): the intended one. */
    OPENSSL,
    /** The JDK's SunJSSE: the fallback when the native library cannot load. */
    JDK
}
