package io.meshproxy.tls.internal;

import io.meshproxy.tls.SpiffeId;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The JDK's PKIX trust manager over the trust bundle, then the SPIFFE rule: the peer's leaf must carry exactly one
 * SPIFFE URI SAN, in the configured trust domain; and, when {@code subjectAltNames} is not empty (client side),
 * one of the leaf's SANs (URI or DNS) must be among them. Any failure throws {@link CertificateException}, which
 * fails the handshake with an alert (both providers call this during the handshake, before application data).
 */
public final class SpiffeTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager pkix;
    private final String trustDomain;
    private final Set<String> subjectAltNames;
    private final X509Certificate[] issuers;

    public SpiffeTrustManager(List<X509Certificate> trustBundle, String trustDomain, Collection<String> subjectAltNames) {
        this.trustDomain = trustDomain;
        this.subjectAltNames = Set.copyOf(subjectAltNames);
        this.issuers = trustBundle.toArray(X509Certificate[]::new);
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : trustBundle) ks.setCertificateEntry("root-" + i++, c);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ks);
            X509ExtendedTrustManager found = null;
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) found = x;
            }
            if (found == null) throw new IllegalStateException("no X509ExtendedTrustManager from PKIX");
            this.pkix = found;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build the trust manager over the trust bundle", e);
        }
    }

    void checkSpiffe(X509Certificate[] chain, boolean peerIsServer) throws CertificateException {
        if (chain == null || chain.length == 0) throw new CertificateException("peer presented no certificate");
        X509Certificate leaf = chain[0];
        List<SpiffeId> ids;
        try {
            ids = SpiffeId.allFromCertificate(leaf);
        } catch (IllegalArgumentException e) {
            throw new CertificateException("peer certificate: " + e.getMessage());
        }
        if (ids.size() != 1) {
            throw new CertificateException("peer certificate must have exactly one SPIFFE URI SAN, has " + ids.size()
                    + " (subject " + leaf.getSubjectX500Principal() + ")");
        }
        SpiffeId id = ids.get(0);
        if (!id.memberOf(trustDomain)) {
            throw new CertificateException("peer SPIFFE ID " + id + " is not in trust domain '" + trustDomain + "'");
        }
        if (peerIsServer && !subjectAltNames.isEmpty()) {
            List<String> sans = allSans(leaf);
            if (sans.stream().noneMatch(subjectAltNames::contains)) {
                throw new CertificateException("peer certificate SANs " + sans + " match none of subjectAltNames "
                        + subjectAltNames);
            }
        }
    }

    private static List<String> allSans(X509Certificate leaf) throws CertificateException {
        List<String> out = new ArrayList<>();
        Collection<List<?>> sans;
        try {
            sans = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new CertificateException("peer certificate SANs unparseable", e);
        }
        if (sans == null) return out;
        for (List<?> san : sans) {
            Object type = san.get(0);
            if ((Integer.valueOf(6).equals(type) || Integer.valueOf(2).equals(type)) && san.get(1) instanceof String s) {
                out.add(s);
            }
        }
        return out;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        pkix.checkClientTrusted(chain, authType, engine);
        checkSpiffe(chain, false);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        pkix.checkServerTrusted(chain, authType, engine);
        checkSpiffe(chain, true);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        pkix.checkClientTrusted(chain, authType, socket);
        checkSpiffe(chain, false);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        pkix.checkServerTrusted(chain, authType, socket);
        checkSpiffe(chain, true);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkClientTrusted(chain, authType);
        checkSpiffe(chain, false);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkServerTrusted(chain, authType);
        checkSpiffe(chain, true);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return issuers.clone();
    }
}
