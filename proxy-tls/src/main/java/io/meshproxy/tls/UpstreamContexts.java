package io.meshproxy.tls;

import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.tls.internal.Pem;
import io.meshproxy.tls.internal.ServerNameTrustManager;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client contexts for DestinationRule {@code tls.mode} SIMPLE and MUTUAL: the files a rule names
 * ({@code caCertificates}, {@code clientCertificate}, {@code privateKey}), its {@code subjectAltNames} and
 * {@code sni}, and the cluster's ALPN protocol make the key of one context, shared by every endpoint and cluster
 * with the same key so they share its session cache. Files are read when a key is first used; {@link #prepare}
 * does it ahead of traffic, off the event loops. A key whose files are bad is remembered as failed: its connects
 * fail at once (503 UF) with the same message, logged once; it is tried again after {@link #RETRY_NANOS}.
 */
final class UpstreamContexts {
    private static final Logger log = LoggerFactory.getLogger(UpstreamContexts.class);
    static final long RETRY_NANOS = 10_000_000_000L;

    record Key(UpstreamTls.Mode mode, String caCertificates, String clientCertificate, String privateKey,
            List<String> subjectAltNames, String sni, String alpn) {
        static Key of(UpstreamTls tls, String alpn) {
            return new Key(tls.mode(), tls.caCertificates(), tls.clientCertificate(), tls.privateKey(),
                    tls.subjectAltNames(), tls.sni(), alpn);
        }
    }

    /** A built context, or why it could not be built (and since when). */
    private record Entry(SslContext context, String error, long failedAt) {}

    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
    private final TlsOptions options;
    private final LongSupplier ticker;

    UpstreamContexts(TlsOptions options) {
        this.options = options;
        this.ticker = options.ticker();
    }

    /** The context for {@code key}, built on first use; an {@link IllegalStateException} when its files are bad. */
    SslContext context(Key key, String cluster) {
        Entry e = entries.get(key);
        if (e == null || (e.context == null && ticker.getAsLong() - e.failedAt >= RETRY_NANOS)) {
            Entry built = build(key, cluster);
            Entry before = e;
            entries.put(key, built);
            if (built.context == null && (before == null || !built.error.equals(before.error))) {
                log.error("cluster '{}': {} upstream TLS cannot be set up: {}; its connections fail (UF) until fixed",
                        cluster, key.mode, built.error);
            } else if (built.context != null && before != null) {
                log.info("cluster '{}': {} upstream TLS set up after earlier failure", cluster, key.mode);
            }
            e = built;
        }
        if (e.context == null) {
            throw new IllegalStateException("cluster '" + cluster + "': " + key.mode + " upstream TLS: " + e.error);
        }
        return e.context;
    }

    /** Builds (and caches) the context for {@code tls} and {@code alpn} now; true if it could be built. */
    boolean prepare(UpstreamTls tls, String alpn, String cluster) {
        try {
            context(Key.of(tls, alpn), cluster);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private Entry build(Key key, String cluster) {
        try {
            List<X509Certificate> anchors = key.caCertificates == null ? null
                    : certificates(Path.of(key.caCertificates), "caCertificates");
            SslContextBuilder b = SslContextBuilder.forClient()
                    // The name check is ServerNameTrustManager's (SANs or SNI); Netty's HTTPS check would use the
                    // endpoint's address.
                    .endpointIdentificationAlgorithm(null);
            if (key.mode == UpstreamTls.Mode.MUTUAL) {
                Path certFile = Path.of(key.clientCertificate);
                Path keyFile = Path.of(key.privateKey);
                List<X509Certificate> chain = certificates(certFile, "clientCertificate");
                PrivateKey pk = privateKey(keyFile);
                if (!WorkloadIdentity.keyMatches(pk, chain.get(0).getPublicKey())) {
                    throw new InvalidIdentityException(keyFile, "privateKey does not match the clientCertificate "
                            + certFile + " (" + chain.get(0).getSubjectX500Principal() + ")");
                }
                b.keyManager(pk, chain.toArray(X509Certificate[]::new));
            }
            TlsOptions o = options.toBuilder().alpn(key.alpn).build();
            SslContext ctx = TlsContexts.common(b, new ServerNameTrustManager(anchors, key.subjectAltNames, key.sni), o,
                    TlsContexts.chooseProvider(o, "upstream " + key.mode)).build();
            log.info("cluster '{}': {} upstream TLS with CA {}{}{}", cluster, key.mode,
                    key.caCertificates == null ? "the JDK's default trust store" : key.caCertificates,
                    key.mode == UpstreamTls.Mode.MUTUAL ? ", client certificate " + key.clientCertificate : "",
                    !key.subjectAltNames.isEmpty() ? ", subjectAltNames " + key.subjectAltNames
                            : key.sni != null ? ", server name checked against SNI " + key.sni : "");
            return new Entry(ctx, null, 0);
        } catch (InvalidIdentityException e) {
            return new Entry(null, e.getMessage(), ticker.getAsLong());
        } catch (SSLException | RuntimeException e) {
            return new Entry(null, e.toString(), ticker.getAsLong());
        }
    }

    private static List<X509Certificate> certificates(Path file, String field) throws InvalidIdentityException {
        try {
            return Pem.readCertificates(read(file, field));
        } catch (CertificateException e) {
            throw new InvalidIdentityException(file, field + " is not PEM certificates: " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file) throws InvalidIdentityException {
        try {
            return Pem.readPrivateKey(read(file, "privateKey"));
        } catch (IOException e) {
            throw new InvalidIdentityException(file, "privateKey is not a PEM private key: " + e.getMessage(), e);
        }
    }

    private static String read(Path file, String field) throws InvalidIdentityException {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new InvalidIdentityException(file, "cannot read " + field + ": no such file", e);
        } catch (IOException | RuntimeException e) {
            throw new InvalidIdentityException(file, "cannot read " + field + ": " + e, e);
        }
    }
}
