package io.meshproxy.tls;

import io.meshproxy.tls.internal.Pem;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A development certificate authority: a self-signed ECDSA P-256 root and workload certificates signed by it,
 * each carrying exactly one SPIFFE URI SAN ({@code spiffe://<td>/ns/<ns>/sa/<sa>}) and nothing that depends on
 * a CN (the subject holds only an O of the trust domain; the SAN is what identifies the workload).
 *
 * <p>Not a production CA: keys live in memory and in plain files. It is what the sidecar's future
 * {@code certs --out DIR --trust-domain cluster.local --workload NS/SA ...} command runs, and what the tests
 * use. File layout, after Istio's agent and its mounted-certificate mode:
 * <pre>
 *   DIR/root-cert.pem              the root (the trust bundle)
 *   DIR/root-key.pem               the root's key (PKCS#8, 0600), to issue more workloads later
 *   DIR/&lt;ns&gt;-&lt;sa&gt;/cert-chain.pem   the workload leaf (the chain up to, not including, the root)
 *   DIR/&lt;ns&gt;-&lt;sa&gt;/key.pem          the workload key (PKCS#8, 0600)
 *   DIR/&lt;ns&gt;-&lt;sa&gt;/root-cert.pem    a copy of the root, so one directory is a complete identity
 * </pre>
 * Crypto runs on the JDK's providers; BouncyCastle only builds and encodes the certificates, and is not
 * registered as a JCA provider.
 */
public final class DevCa {
    /** Workload key algorithms. */
    public enum KeyType { ECDSA_P256, RSA_2048 }

    private static final String SIGNATURE = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String trustDomain;
    private final KeyPair rootKeys;
    private final X509Certificate root;
    private final Clock clock;

    private DevCa(String trustDomain, KeyPair rootKeys, X509Certificate root, Clock clock) {
        this.trustDomain = trustDomain;
        this.rootKeys = rootKeys;
        this.root = root;
        this.clock = clock;
    }

    /** A new root for {@code trustDomain}, valid from an hour ago for ten years. */
    public static DevCa create(String trustDomain) {
        return create(trustDomain, Clock.systemUTC());
    }

    public static DevCa create(String trustDomain, Clock clock) {
        Instant now = clock.instant();
        return create(trustDomain, clock, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(3650)));
    }

    public static DevCa create(String trustDomain, Clock clock, Instant notBefore, Instant notAfter) {
        SpiffeId.requireTrustDomain(trustDomain);
        try {
            KeyPair keys = generate(KeyType.ECDSA_P256);
            X500Name subject = new X500Name("O=" + trustDomain + ",CN=meshproxy development root CA");
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(notBefore),
                    Date.from(notAfter), subject, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new DevCa(trustDomain, keys, sign(b, keys.getPrivate()), clock);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot create the development root CA", e);
        }
    }

    /** Loads a root written by {@link #writeRoot(Path)} ({@code root-cert.pem} and {@code root-key.pem} in {@code dir}). */
    public static DevCa load(Path dir, String trustDomain, Clock clock) throws IOException {
        SpiffeId.requireTrustDomain(trustDomain);
        try {
            X509Certificate root = Pem.readCertificates(Files.readString(dir.resolve("root-cert.pem"))).get(0);
            PrivateKey key = Pem.readPrivateKey(Files.readString(dir.resolve("root-key.pem")));
            return new DevCa(trustDomain, new KeyPair(root.getPublicKey(), key), root, clock);
        } catch (GeneralSecurityException e) {
            throw new IOException(dir.resolve("root-cert.pem") + ": " + e.getMessage(), e);
        }
    }

    public String trustDomain() {
        return trustDomain;
    }

    public X509Certificate root() {
        return root;
    }

    /** A workload certificate request for Istio's {@code /ns/<ns>/sa/<sa>} identity in this CA's trust domain. */
    public WorkloadRequest workload(String namespace, String serviceAccount) {
        return new WorkloadRequest(SpiffeId.of(trustDomain, namespace, serviceAccount));
    }

    /** A workload certificate request for any SPIFFE ID (tests use a foreign trust domain this way). */
    public WorkloadRequest workload(SpiffeId id) {
        return new WorkloadRequest(id);
    }

    /** Writes {@code root-cert.pem} and {@code root-key.pem} into {@code dir}. */
    public void writeRoot(Path dir) throws IOException {
        Pem.write(dir.resolve("root-cert.pem"), Pem.certificates(List.of(root)), false);
        Pem.write(dir.resolve("root-key.pem"), Pem.privateKey(rootKeys.getPrivate()), true);
    }

    /** A workload certificate being configured; {@link #issue()} signs it. */
    public final class WorkloadRequest {
        private final SpiffeId id;
        private KeyType keyType = KeyType.ECDSA_P256;
        private Instant notBefore;
        private Instant notAfter;
        private boolean withSan = true;
        private final List<String> dnsNames = new ArrayList<>();

        private WorkloadRequest(SpiffeId id) {
            this.id = Objects.requireNonNull(id, "id");
            Instant now = clock.instant();
            this.notBefore = now.minus(Duration.ofMinutes(5));
            this.notAfter = now.plus(Duration.ofHours(24)); // Istio's default workload certificate lifetime
        }

        public WorkloadRequest keyType(KeyType keyType) {
            this.keyType = Objects.requireNonNull(keyType);
            return this;
        }

        public WorkloadRequest validity(Instant notBefore, Instant notAfter) {
            if (!notAfter.isAfter(notBefore)) throw new IllegalArgumentException("notAfter must be after notBefore");
            this.notBefore = notBefore;
            this.notAfter = notAfter;
            return this;
        }

        /** Extra DNS SANs (Istio's {@code subjectAltNames} may name them). */
        public WorkloadRequest dnsNames(String... names) {
            dnsNames.addAll(List.of(names));
            return this;
        }

        /** Leaves the SPIFFE URI SAN out: only for tests of what a verifier does with such a certificate. */
        public WorkloadRequest withoutSpiffeSan() {
            this.withSan = false;
            return this;
        }

        public Issued issue() {
            try {
                KeyPair keys = generate(keyType);
                JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
                X500Name issuer = X500Name.getInstance(root.getSubjectX500Principal().getEncoded());
                X500Name subject = new X500Name("O=" + id.trustDomain());
                X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial(), Date.from(notBefore),
                        Date.from(notAfter), subject, keys.getPublic())
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                        .addExtension(Extension.keyUsage, true,
                                new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                        .addExtension(Extension.authorityKeyIdentifier, false,
                                ext.createAuthorityKeyIdentifier(root))
                        .addExtension(Extension.subjectKeyIdentifier, false,
                                ext.createSubjectKeyIdentifier(keys.getPublic()));
                List<GeneralName> names = new ArrayList<>();
                if (withSan) names.add(new GeneralName(GeneralName.uniformResourceIdentifier, id.uri()));
                for (String dns : dnsNames) names.add(new GeneralName(GeneralName.dNSName, dns));
                if (!names.isEmpty()) {
                    b.addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(names.toArray(GeneralName[]::new)));
                }
                return new Issued(id, sign(b, rootKeys.getPrivate()), keys.getPrivate(), root);
            } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
                throw new IllegalStateException("cannot issue a certificate for " + id, e);
            }
        }
    }

    /** An issued workload certificate and its key. */
    public record Issued(SpiffeId id, X509Certificate certificate, PrivateKey privateKey, X509Certificate root) {
        /** The directory name of this workload under an output directory: {@code <ns>-<sa>}. */
        public String directoryName() {
            return id.namespace().orElse("workload") + "-" + id.serviceAccount().orElse(id.path().replace('/', '_'));
        }

        /**
         * Writes {@code <dir>/<ns>-<sa>/{cert-chain.pem,key.pem,root-cert.pem}} and returns the workload directory.
         */
        public Path writeTo(Path dir) throws IOException {
            Path w = dir.resolve(directoryName());
            Pem.write(w.resolve("cert-chain.pem"), Pem.certificates(List.of(certificate)), false);
            Pem.write(w.resolve("key.pem"), Pem.privateKey(privateKey), true);
            Pem.write(w.resolve("root-cert.pem"), Pem.certificates(List.of(root)), false);
            return w;
        }
    }

    private static KeyPair generate(KeyType type) throws GeneralSecurityException {
        return switch (type) {
            case ECDSA_P256 -> {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
                yield g.generateKeyPair();
            }
            case RSA_2048 -> {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048, RANDOM);
                yield g.generateKeyPair();
            }
        };
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(key)));
    }
}
