package io.meshproxy.tls;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A SPIFFE ID ({@code spiffe://<trust-domain>/<path>}), validated by the rules of the SPIFFE ID specification:
 * scheme {@code spiffe} in lower case; a trust domain of lower-case letters, digits, {@code .}, {@code -} and
 * {@code _} (no port, no user info, at most 255 characters); a path of non-empty segments of
 * {@code [A-Za-z0-9._-]} that are neither {@code .} nor {@code ..}, no trailing {@code /}; no query, no fragment;
 * at most 2048 bytes in all.
 *
 * <p>Istio's workload form is {@code spiffe://<td>/ns/<namespace>/sa/<service-account>};
 * {@link #namespace()} and {@link #serviceAccount()} read it. {@link #principal()} is Istio's principal (the ID
 * without the scheme, as AuthorizationPolicy writes it: {@code cluster.local/ns/default/sa/frontend});
 * {@link #toString()} is the full URI.
 */
public final class SpiffeId {
    public static final String SCHEME_PREFIX = "spiffe://";
    private static final int MAX_LENGTH = 2048;
    private static final int MAX_TRUST_DOMAIN_LENGTH = 255;

    private final String trustDomain;
    private final String path; // "" or "/seg/seg"

    private SpiffeId(String trustDomain, String path) {
        this.trustDomain = trustDomain;
        this.path = path;
    }

    /** Parses a SPIFFE ID; throws {@link IllegalArgumentException} saying which rule the input breaks. */
    public static SpiffeId parse(String id) {
        Objects.requireNonNull(id, "id");
        if (id.isEmpty()) throw invalid(id, "empty");
        if (id.length() > MAX_LENGTH) throw invalid(id, "longer than " + MAX_LENGTH + " bytes");
        if (!id.startsWith(SCHEME_PREFIX)) {
            throw invalid(id, "scheme must be 'spiffe://' (lower case)");
        }
        String rest = id.substring(SCHEME_PREFIX.length());
        int slash = rest.indexOf('/');
        String td = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash);
        checkTrustDomain(id, td);
        checkPath(id, path);
        return new SpiffeId(td, path);
    }

    /** Istio's workload identity {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}. */
    public static SpiffeId of(String trustDomain, String namespace, String serviceAccount) {
        return parse(SCHEME_PREFIX + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount);
    }

    /** Validates a trust domain name alone (for configuration); returns it. */
    public static String requireTrustDomain(String trustDomain) {
        Objects.requireNonNull(trustDomain, "trustDomain");
        checkTrustDomain(trustDomain, trustDomain);
        return trustDomain;
    }

    /**
     * The SPIFFE IDs among a certificate's URI SANs (entries with the {@code spiffe} scheme that do not parse are
     * reported as an exception: a malformed identity is never silently ignored).
     */
    public static List<SpiffeId> allFromCertificate(X509Certificate certificate) {
        List<SpiffeId> ids = new ArrayList<>();
        for (String uri : uriSans(certificate)) {
            if (uri.regionMatches(true, 0, SCHEME_PREFIX, 0, SCHEME_PREFIX.length())) {
                ids.add(parse(uri));
            }
        }
        return ids;
    }

    /** The single SPIFFE ID of a certificate; empty if it has none, an exception if it has several. */
    public static Optional<SpiffeId> fromCertificate(X509Certificate certificate) {
        List<SpiffeId> ids = allFromCertificate(certificate);
        if (ids.size() > 1) throw new IllegalArgumentException("certificate has " + ids.size() + " SPIFFE URI SANs: " + ids);
        return ids.stream().findFirst();
    }

    /**
     * The peer's SPIFFE ID from an established TLS session (the leaf of the peer's chain); empty when the peer
     * presented no certificate or its leaf has no SPIFFE URI SAN. This is where the peer principal of a request
     * comes from.
     */
    public static Optional<SpiffeId> ofPeer(SSLSession session) {
        if (session == null) return Optional.empty();
        try {
            var certs = session.getPeerCertificates();
            if (certs.length == 0 || !(certs[0] instanceof X509Certificate leaf)) return Optional.empty();
            return fromCertificate(leaf);
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    static List<String> uriSans(X509Certificate certificate) {
        List<String> out = new ArrayList<>();
        Collection<List<?>> sans;
        try {
            sans = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("unparseable subjectAltName extension: " + e.getMessage(), e);
        }
        if (sans == null) return out;
        for (List<?> san : sans) {
            if (san.size() >= 2 && Integer.valueOf(6).equals(san.get(0)) && san.get(1) instanceof String s) {
                out.add(s);
            }
        }
        return out;
    }

    public String trustDomain() {
        return trustDomain;
    }

    /** The path, {@code ""} or starting with {@code /}. */
    public String path() {
        return path;
    }

    /** The namespace of Istio's {@code /ns/<ns>/sa/<sa>} form, if the path has that form. */
    public Optional<String> namespace() {
        String[] seg = istioSegments();
        return seg == null ? Optional.empty() : Optional.of(seg[2]);
    }

    /** The service account of Istio's {@code /ns/<ns>/sa/<sa>} form, if the path has that form. */
    public Optional<String> serviceAccount() {
        String[] seg = istioSegments();
        return seg == null ? Optional.empty() : Optional.of(seg[4]);
    }

    private String[] istioSegments() {
        String[] seg = path.split("/", -1); // "", "ns", ns, "sa", sa
        if (seg.length == 5 && seg[1].equals("ns") && seg[3].equals("sa")) return seg;
        return null;
    }

    public boolean memberOf(String trustDomain) {
        return this.trustDomain.equals(trustDomain);
    }

    /** Istio's principal: the ID without the scheme, {@code cluster.local/ns/default/sa/frontend}. */
    public String principal() {
        return trustDomain + path;
    }

    /** The full URI form, {@code spiffe://cluster.local/ns/default/sa/frontend}. */
    public String uri() {
        return SCHEME_PREFIX + trustDomain + path;
    }

    @Override
    public String toString() {
        return uri();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpiffeId other && trustDomain.equals(other.trustDomain) && path.equals(other.path);
    }

    @Override
    public int hashCode() {
        return trustDomain.hashCode() * 31 + path.hashCode();
    }

    private static void checkTrustDomain(String id, String td) {
        if (td.isEmpty()) throw invalid(id, "trust domain is missing");
        if (td.length() > MAX_TRUST_DOMAIN_LENGTH) {
            throw invalid(id, "trust domain is longer than " + MAX_TRUST_DOMAIN_LENGTH + " characters");
        }
        for (int i = 0; i < td.length(); i++) {
            char c = td.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
            if (!ok) {
                String why = c == ':' ? "a port is not allowed"
                        : c == '@' ? "user info is not allowed"
                        : (c >= 'A' && c <= 'Z') ? "trust domain must be lower case"
                        : "trust domain has invalid character '" + c + "'";
                throw invalid(id, why);
            }
        }
    }

    private static void checkPath(String id, String path) {
        if (path.isEmpty()) return;
        if (path.equals("/") || path.endsWith("/")) throw invalid(id, "path must not end with '/'");
        int start = 1;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) end = path.length();
            String seg = path.substring(start, end);
            if (seg.isEmpty()) throw invalid(id, "path has an empty segment");
            if (seg.equals(".") || seg.equals("..")) throw invalid(id, "path segment '" + seg + "' is not allowed");
            for (int i = 0; i < seg.length(); i++) {
                char c = seg.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '.' || c == '-' || c == '_';
                if (!ok) {
                    String why = c == '?' ? "a query is not allowed"
                            : c == '#' ? "a fragment is not allowed"
                            : "path has invalid character '" + c + "'";
                    throw invalid(id, why);
                }
            }
            start = end + 1;
        }
    }

    private static IllegalArgumentException invalid(String id, String reason) {
        return new IllegalArgumentException("invalid SPIFFE ID '" + id + "': " + reason);
    }
}
