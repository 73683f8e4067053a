package io.meshproxy.tls.internal;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Verification of a non-mesh upstream (DestinationRule {@code tls.mode} SIMPLE or MUTUAL): the JDK's PKIX trust
 * manager over {@code caCertificates} (or the JDK's default trust store), then the server's name:
 * <ul>
 *   <li>with {@code subjectAltNames}: one of the leaf's DNS, URI or IP SANs equals one of them exactly (Envoy's
 *       {@code match_typed_subject_alt_names} with {@code exact} matchers, which Istio generates from them);</li>
 *   <li>without, and with an {@code sni}: the SNI matches one of the leaf's DNS SANs, a leading {@code *.}
 *       standing for exactly one label (Istio's default {@code VERIFY_CERTIFICATE_AT_CLIENT} behaviour, Envoy's
 *       {@code auto_sni_san_validation});</li>
 *   <li>with neither: the chain only.</li>
 * </ul>
 * No SPIFFE rule: these peers are not mesh workloads.
 */
public final class ServerNameTrustManager extends X509ExtendedTrustManager {
    private static final int DNS = 2;
    private static final int URI = 6;
    private static final int IP = 7;

    private final X509ExtendedTrustManager pkix;
    private final Set<String> subjectAltNames;
    private final String sni;

    /** {@code anchors} null: the JDK's default trust store ({@code cacerts}). */
    public ServerNameTrustManager(List<X509Certificate> anchors, Collection<String> subjectAltNames, String sni) {
        this.subjectAltNames = Set.copyOf(subjectAltNames);
        this.sni = sni;
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            if (anchors == null) {
                tmf.init((KeyStore) null);
            } else {
                KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
                ks.load(null, null);
                int i = 0;
                for (X509Certificate c : anchors) ks.setCertificateEntry("ca-" + i++, c);
                tmf.init(ks);
            }
            X509ExtendedTrustManager found = null;
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) found = x;
            }
            if (found == null) throw new IllegalStateException("no X509ExtendedTrustManager from PKIX");
            this.pkix = found;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build a trust manager over the CA certificates", e);
        }
    }

    void checkName(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) throw new CertificateException("server presented no certificate");
        X509Certificate leaf = chain[0];
        if (!subjectAltNames.isEmpty()) {
            List<String> sans = sans(leaf, DNS, URI, IP);
            if (sans.stream().noneMatch(subjectAltNames::contains)) {
                throw new CertificateException("server certificate SANs " + sans + " match none of subjectAltNames "
                        + subjectAltNames);
            }
        } else if (sni != null) {
            List<String> dns = sans(leaf, DNS);
            if (dns.stream().noneMatch(d -> dnsMatches(d, sni))) {
                throw new CertificateException("server certificate DNS SANs " + dns + " do not match the SNI " + sni);
            }
        }
    }

    /** {@code pattern} is a DNS SAN, possibly {@code *.example.com} (one label, the left-most, and only that). */
    static boolean dnsMatches(String pattern, String host) {
        String p = pattern.toLowerCase(Locale.ROOT);
        String h = host.toLowerCase(Locale.ROOT);
        if (p.endsWith(".")) p = p.substring(0, p.length() - 1);
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        if (!p.startsWith("*.")) return p.equals(h);
        int dot = h.indexOf('.');
        return dot > 0 && h.substring(dot).equals(p.substring(1));
    }

    private static List<String> sans(X509Certificate leaf, int... types) throws CertificateException {
        Collection<List<?>> all;
        try {
            all = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new CertificateException("server certificate SANs unparseable", e);
        }
        List<String> out = new ArrayList<>();
        if (all == null) return out;
        for (List<?> san : all) {
            for (int t : types) {
                if (Integer.valueOf(t).equals(san.get(0)) && san.get(1) instanceof String s) out.add(s);
            }
        }
        return out;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        pkix.checkServerTrusted(chain, authType, engine);
        checkName(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        pkix.checkServerTrusted(chain, authType, socket);
        checkName(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkServerTrusted(chain, authType);
        checkName(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("client side only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return pkix.getAcceptedIssuers();
    }
}
