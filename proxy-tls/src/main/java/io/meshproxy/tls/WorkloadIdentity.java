package io.meshproxy.tls;

import io.meshproxy.tls.internal.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A workload's identity, loaded from the files Istio's {@code spec.identity} names: {@code certificateChain}
 * (the leaf first, then intermediates), {@code privateKey}, {@code trustBundle} (the roots peers must chain to)
 * and {@code trustDomain}. Loading validates everything a handshake would otherwise find out too late:
 * <ul>
 *   <li>every file is readable PEM of the right kind;</li>
 *   <li>the private key belongs to the leaf (a signature made with it verifies with the leaf's public key);</li>
 *   <li>the leaf has exactly one SPIFFE URI SAN, and it is in {@code trustDomain};</li>
 *   <li>the leaf is within its validity now, and the chain verifies (PKIX) against the bundle.</li>
 * </ul>
 * Each failure is an {@link InvalidIdentityException} naming the file and the reason. Immutable.
 */
public final class WorkloadIdentity {
    private final List<X509Certificate> certificateChain;
    private final PrivateKey privateKey;
    private final List<X509Certificate> trustBundle;
    private final String trustDomain;
    private final SpiffeId spiffeId;

    private WorkloadIdentity(List<X509Certificate> chain, PrivateKey key, List<X509Certificate> bundle,
            String trustDomain, SpiffeId id) {
        this.certificateChain = List.copyOf(chain);
        this.privateKey = key;
        this.trustBundle = List.copyOf(bundle);
        this.trustDomain = trustDomain;
        this.spiffeId = id;
    }

    public static WorkloadIdentity load(Path certificateChain, Path privateKey, Path trustBundle, String trustDomain)
            throws InvalidIdentityException {
        return load(certificateChain, privateKey, trustBundle, trustDomain, Clock.systemUTC());
    }

    /** Loads and validates; {@code clock} is the "now" of the validity checks. */
    public static WorkloadIdentity load(Path certificateChain, Path privateKey, Path trustBundle, String trustDomain,
            Clock clock) throws InvalidIdentityException {
        Objects.requireNonNull(clock, "clock");
        try {
            SpiffeId.requireTrustDomain(trustDomain);
        } catch (IllegalArgumentException e) {
            throw new InvalidIdentityException(certificateChain, "trustDomain: " + e.getMessage());
        }
        List<X509Certificate> chain = readCertificates(certificateChain, "certificate chain");
        PrivateKey key = readKey(privateKey);
        List<X509Certificate> bundle = readCertificates(trustBundle, "trust bundle");
        return validate(certificateChain, chain, privateKey, key, trustBundle, bundle, trustDomain, clock);
    }

    /** Validates in-memory material (the file names in errors are the given labels). */
    static WorkloadIdentity validate(Path chainFile, List<X509Certificate> chain, Path keyFile, PrivateKey key,
            Path bundleFile, List<X509Certificate> bundle, String trustDomain, Clock clock)
            throws InvalidIdentityException {
        X509Certificate leaf = chain.get(0);
        if (!keyMatches(key, leaf.getPublicKey())) {
            throw new InvalidIdentityException(keyFile, "private key does not match the leaf certificate of "
                    + chainFile + " (" + leaf.getSubjectX500Principal() + ")");
        }
        List<SpiffeId> ids;
        try {
            ids = SpiffeId.allFromCertificate(leaf);
        } catch (IllegalArgumentException e) {
            throw new InvalidIdentityException(chainFile, "leaf certificate: " + e.getMessage());
        }
        if (ids.isEmpty()) {
            throw new InvalidIdentityException(chainFile, "leaf certificate has no SPIFFE URI SAN (spiffe://"
                    + trustDomain + "/ns/<ns>/sa/<sa>)");
        }
        if (ids.size() > 1) {
            throw new InvalidIdentityException(chainFile, "leaf certificate has " + ids.size()
                    + " SPIFFE URI SANs " + ids + "; exactly one is allowed");
        }
        SpiffeId id = ids.get(0);
        if (!id.memberOf(trustDomain)) {
            throw new InvalidIdentityException(chainFile, "leaf certificate's SPIFFE ID " + id
                    + " is not in the trust domain '" + trustDomain + "'");
        }
        Date now = Date.from(clock.instant());
        for (X509Certificate c : chain) {
            try {
                c.checkValidity(now);
            } catch (CertificateExpiredException e) {
                throw new InvalidIdentityException(chainFile, "certificate " + describe(c, id, leaf)
                        + " expired at " + c.getNotAfter().toInstant());
            } catch (CertificateNotYetValidException e) {
                throw new InvalidIdentityException(chainFile, "certificate " + describe(c, id, leaf)
                        + " is not valid before " + c.getNotBefore().toInstant());
            }
        }
        try {
            Set<TrustAnchor> anchors = new HashSet<>();
            for (X509Certificate r : bundle) anchors.add(new TrustAnchor(r, null));
            // The path is the chain without a copy of a root that may close it: anchors are not part of a path.
            List<X509Certificate> path = chain.stream().filter(c -> !bundle.contains(c)).toList();
            if (path.isEmpty()) {
                throw new InvalidIdentityException(chainFile, "the leaf certificate is itself a trust anchor");
            }
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(now);
            CertPathValidator.getInstance("PKIX")
                    .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
        } catch (CertPathValidatorException e) {
            throw new InvalidIdentityException(chainFile, "certificate chain does not verify against the trust bundle "
                    + bundleFile + ": " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new InvalidIdentityException(chainFile, "cannot verify the chain: " + e.getMessage(), e);
        }
        return new WorkloadIdentity(chain, key, bundle, trustDomain, id);
    }

    private static String describe(X509Certificate c, SpiffeId id, X509Certificate leaf) {
        return c == leaf ? "of " + id : c.getSubjectX500Principal().getName();
    }

    private static List<X509Certificate> readCertificates(Path file, String what) throws InvalidIdentityException {
        String text = readFile(file, what);
        try {
            return Pem.readCertificates(text);
        } catch (CertificateException e) {
            throw new InvalidIdentityException(file, what + " is not PEM certificates: " + e.getMessage(), e);
        }
    }

    private static PrivateKey readKey(Path file) throws InvalidIdentityException {
        String text = readFile(file, "private key");
        try {
            return Pem.readPrivateKey(text);
        } catch (IOException e) {
            throw new InvalidIdentityException(file, "private key is not a PEM private key: " + e.getMessage(), e);
        }
    }

    private static String readFile(Path file, String what) throws InvalidIdentityException {
        try {
            return Files.readString(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidIdentityException(file, "cannot read " + what + ": no such file", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new InvalidIdentityException(file, "cannot read " + what + ": permission denied", e);
        } catch (IOException | RuntimeException e) {
            throw new InvalidIdentityException(file, "cannot read " + what + ": " + e, e);
        }
    }

    static boolean keyMatches(PrivateKey key, PublicKey pub) {
        if (!key.getAlgorithm().equals(pub.getAlgorithm())) return false;
        String alg = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> null;
        };
        if (alg == null) return false;
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(challenge);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(challenge);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Leaf first. */
    public List<X509Certificate> certificateChain() {
        return certificateChain;
    }

    public X509Certificate leaf() {
        return certificateChain.get(0);
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    public List<X509Certificate> trustBundle() {
        return trustBundle;
    }

    public String trustDomain() {
        return trustDomain;
    }

    /** The leaf's SPIFFE ID: this workload's identity. */
    public SpiffeId spiffeId() {
        return spiffeId;
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    @Override
    public String toString() {
        return "WorkloadIdentity[" + spiffeId + ", notAfter=" + notAfter() + "]";
    }
}
