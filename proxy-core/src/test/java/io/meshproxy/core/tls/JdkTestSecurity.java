package io.meshproxy.core.tls;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;

/**
 * A real {@link TransportSecurity} on the JDK's own TLS, for proxy-core's tests (proxy-tls, with BoringSSL and
 * SPIFFE verification, is the production one): a self-signed certificate with a SPIFFE URI SAN made by the JDK's
 * {@code keytool}, presented by both sides and trusted by both.
 */
final class JdkTestSecurity implements TransportSecurity {
    final AtomicInteger serverHandshakes = new AtomicInteger();
    final AtomicInteger clientHandshakes = new AtomicInteger();
    private final SSLContext context;

    private JdkTestSecurity(SSLContext context) {
        this.context = context;
    }

    /** A key pair and certificate for {@code spiffe://cluster.local/ns/NS/sa/SA}, made by keytool in {@code dir}. */
    static JdkTestSecurity create(Path dir, String ns, String sa) throws Exception {
        Path store = dir.resolve(ns + "-" + sa + ".p12");
        Files.deleteIfExists(store);
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "workload", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "O=meshproxy test", "-validity", "2",
                "-ext", "SAN=uri:spiffe://cluster.local/ns/" + ns + "/sa/" + sa,
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + out);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("workload", ks.getCertificate("workload"));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return new JdkTestSecurity(ctx);
    }

    @Override
    public SSLEngine newServerEngine(ListenerConfig listener) {
        SSLEngine e = context.createSSLEngine();
        e.setUseClientMode(false);
        e.setNeedClientAuth(true);
        SSLParameters params = e.getSSLParameters();
        params.setApplicationProtocols(new String[] {"h2", "http/1.1"});
        e.setSSLParameters(params);
        return e;
    }

    @Override
    public SSLEngine newClientEngine(ClusterConfig cluster, String host, int port) {
        SSLEngine e = context.createSSLEngine(host, port);
        e.setUseClientMode(true);
        SSLParameters params = e.getSSLParameters();
        params.setApplicationProtocols(cluster.protocol() == UpstreamProtocol.HTTP2
                ? new String[] {"h2"} : new String[] {"http/1.1"});
        e.setSSLParameters(params);
        return e;
    }

    @Override
    public String peerPrincipal(SSLSession session) {
        try {
            X509Certificate leaf = (X509Certificate) session.getPeerCertificates()[0];
            for (List<?> san : leaf.getSubjectAlternativeNames()) {
                if (Integer.valueOf(6).equals(san.get(0)) && san.get(1).toString().startsWith("spiffe://")) {
                    return san.get(1).toString().substring("spiffe://".length());
                }
            }
            return null;
        } catch (SSLPeerUnverifiedException | java.security.cert.CertificateParsingException e) {
            return null;
        }
    }

    @Override
    public void handshakeCompleted(boolean server, boolean resumed, long durationNanos) {
        (server ? serverHandshakes : clientHandshakes).incrementAndGet();
    }
}
