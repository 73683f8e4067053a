package io.meshproxy.tls.internal;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A trust manager whose verification (a {@link SpiffeTrustManager} over the current trust bundle) can be replaced
 * while the contexts built on it keep running: a rotated trust bundle applies to the next handshake.
 *
 * <p>{@link #getAcceptedIssuers()} is empty on purpose: a server context sends that list in its certificate request
 * once, when it is built, and a client that filters its certificates by it would find none after a root rotation.
 * An empty list lets the client send its workload certificate; the server verifies it against the current bundle.
 */
public final class RotatingTrustManager extends X509ExtendedTrustManager {
    private static final X509Certificate[] NONE = new X509Certificate[0];

    private volatile X509ExtendedTrustManager delegate;

    public RotatingTrustManager(X509ExtendedTrustManager delegate) {
        this.delegate = delegate;
    }

    /** Handshakes from now on verify with {@code next}. */
    public void set(X509ExtendedTrustManager next) {
        this.delegate = next;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        delegate.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        delegate.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        delegate.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return NONE;
    }
}
