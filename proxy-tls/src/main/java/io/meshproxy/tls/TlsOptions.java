package io.meshproxy.tls;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * How TLS contexts are built, beyond the identity.
 *
 * @param protocols        enabled protocol versions, default TLS 1.3 and 1.2
 * @param alpn             ALPN protocols in preference order, default {@code h2}, {@code http/1.1}
 * @param requireOpenSsl   refuse to build a context when BoringSSL cannot load (instead of the JDK fallback)
 * @param sessionCacheSize bound on cached sessions per context (server: session-id cache; client: one entry per
 *                         upstream host:port)
 * @param sessionTimeout   lifetime of a cached session or ticket
 * @param ticketKeyRotation how often the server's session-ticket key changes; the previous key still decrypts,
 *                         so a ticket lives between one and two periods
 * @param subjectAltNames  client side: when not empty, the peer's leaf must carry one of these SANs (URI or DNS),
 *                         Istio's DestinationRule {@code tls.subjectAltNames}
 * @param ticker           nanosecond clock for handshake timing
 * @param groups           key-exchange groups offered and accepted, in preference order (BoringSSL names), default
 *                         {@link #DEFAULT_GROUPS}: X25519 then P-256, Envoy's default {@code ecdh_curves} and what
 *                         Istio uses unless its post-quantum compliance policy is on. Netty would otherwise offer the
 *                         hybrid {@code X25519MLKEM768} first, which more than doubled the CPU of a TLS 1.3 handshake
 *                         here, full or resumed (TlsHandshakeBenchmark); add it in front to opt in to post-quantum
 *                         key exchange. Not applied on the JDK fallback.
 */
public record TlsOptions(List<String> protocols, List<String> alpn, boolean requireOpenSsl, int sessionCacheSize,
        Duration sessionTimeout, Duration ticketKeyRotation, List<String> subjectAltNames, LongSupplier ticker,
        List<String> groups) {

    public static final String TLS_1_3 = "TLSv1.3";
    public static final String TLS_1_2 = "TLSv1.2";
    /** X25519, then P-256. */
    public static final List<String> DEFAULT_GROUPS = List.of("X25519", "P-256");

    public TlsOptions {
        protocols = List.copyOf(protocols);
        alpn = List.copyOf(alpn);
        subjectAltNames = List.copyOf(subjectAltNames);
        groups = List.copyOf(groups);
        if (groups.isEmpty()) throw new IllegalArgumentException("groups must not be empty");
        Objects.requireNonNull(sessionTimeout, "sessionTimeout");
        Objects.requireNonNull(ticketKeyRotation, "ticketKeyRotation");
        Objects.requireNonNull(ticker, "ticker");
        if (protocols.isEmpty()) throw new IllegalArgumentException("protocols must not be empty");
        for (String p : protocols) {
            if (!p.equals(TLS_1_3) && !p.equals(TLS_1_2)) {
                throw new IllegalArgumentException("protocol " + p + " is not supported (TLSv1.3, TLSv1.2)");
            }
        }
        if (sessionCacheSize < 1) throw new IllegalArgumentException("sessionCacheSize must be at least 1");
        if (sessionTimeout.toSeconds() < 1) throw new IllegalArgumentException("sessionTimeout must be at least 1s");
        if (ticketKeyRotation.toSeconds() < 1) throw new IllegalArgumentException("ticketKeyRotation must be at least 1s");
    }

    public static TlsOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.protocols = protocols;
        b.alpn = alpn;
        b.requireOpenSsl = requireOpenSsl;
        b.sessionCacheSize = sessionCacheSize;
        b.sessionTimeout = sessionTimeout;
        b.ticketKeyRotation = ticketKeyRotation;
        b.subjectAltNames = subjectAltNames;
        b.ticker = ticker;
        b.groups = groups;
        return b;
    }

    public static final class Builder {
        private List<String> protocols = List.of(TLS_1_3, TLS_1_2);
        private List<String> alpn = List.of("h2", "http/1.1");
        private boolean requireOpenSsl;
        private int sessionCacheSize = 10_000;
        private Duration sessionTimeout = Duration.ofHours(2);
        private Duration ticketKeyRotation = Duration.ofHours(1);
        private List<String> subjectAltNames = List.of();
        private LongSupplier ticker = System::nanoTime;
        private List<String> groups = DEFAULT_GROUPS;

        public Builder protocols(String... protocols) {
            this.protocols = List.of(protocols);
            return this;
        }

        public Builder alpn(String... alpn) {
            this.alpn = List.of(alpn);
            return this;
        }

        public Builder requireOpenSsl(boolean requireOpenSsl) {
            this.requireOpenSsl = requireOpenSsl;
            return this;
        }

        public Builder sessionCacheSize(int sessionCacheSize) {
            this.sessionCacheSize = sessionCacheSize;
            return this;
        }

        public Builder sessionTimeout(Duration sessionTimeout) {
            this.sessionTimeout = sessionTimeout;
            return this;
        }

        public Builder ticketKeyRotation(Duration ticketKeyRotation) {
            this.ticketKeyRotation = ticketKeyRotation;
            return this;
        }

        public Builder subjectAltNames(String... names) {
            this.subjectAltNames = List.of(names);
            return this;
        }

        public Builder ticker(LongSupplier ticker) {
            this.ticker = ticker;
            return this;
        }

        /** Key-exchange groups in preference order (BoringSSL names such as {@code X25519MLKEM768}, {@code X25519}, {@code P-256}). */
        public Builder groups(String... groups) {
            this.groups = List.of(groups);
            return this;
        }

        public TlsOptions build() {
            return new TlsOptions(protocols, alpn, requireOpenSsl, sessionCacheSize, sessionTimeout,
                    ticketKeyRotation, subjectAltNames, ticker, groups);
        }
    }
}
