package io.meshproxy.tls.internal;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager whose certificate and key can be replaced while contexts built on it keep running: certificate
 * rotation without new {@code SslContext}s, so session-ticket keys and client session caches survive.
 *
 * <p>Netty's OpenSSL engines ask the key manager at every handshake (the certificate callback) for an alias, then
 * for the chain and key of that alias; its plain key-material provider caches one converted chain/key pair by
 * object identity, so handing back the same instances until a rotation costs no conversion per handshake, and new
 * instances after one make it convert once. The alias names a generation, so a rotation between the two questions
 * cannot pair the new chain with the old key: the previous generation stays answerable.
 */
public final class RotatingKeyManager extends X509ExtendedKeyManager {
    private static final AtomicLong GENERATIONS = new AtomicLong();

    private record Material(String alias, X509Certificate[] chain, PrivateKey key, String keyType) {}

    private volatile Material current;
    private volatile Material previous;

    public RotatingKeyManager(List<X509Certificate> chain, PrivateKey key) {
        current = material(chain, key);
    }

    /** New handshakes present {@code chain} (leaf first) with {@code key}; handshakes under way are unaffected. */
    public synchronized void set(List<X509Certificate> chain, PrivateKey key) {
        Material next = material(chain, key);
        previous = current;
        current = next;
    }

    /** The leaf new handshakes present. */
    public X509Certificate leaf() {
        return current.chain[0];
    }

    private static Material material(List<X509Certificate> chain, PrivateKey key) {
        if (chain.isEmpty()) throw new IllegalArgumentException("empty certificate chain");
        return new Material("workload-" + GENERATIONS.incrementAndGet(), chain.toArray(X509Certificate[]::new), key,
                key.getAlgorithm());
    }

    private Material byAlias(String alias) {
        Material c = current;
        if (c.alias.equals(alias)) return c;
        Material p = previous;
        return p != null && p.alias.equals(alias) ? p : null;
    }

    private String aliasFor(String keyType) {
        Material c = current;
        return matches(c.keyType, keyType) ? c.alias : null;
    }

    /** {@code keyType} is the JSSE name ("EC", "RSA", "EC_EC", ...); the key algorithm is "EC" or "RSA". */
    private static boolean matches(String keyAlgorithm, String keyType) {
        return keyType != null && (keyType.equals(keyAlgorithm) || keyType.equals(keyAlgorithm + "_" + keyAlgorithm));
    }

    private String aliasForAny(String[] keyTypes) {
        if (keyTypes == null) return null;
        for (String t : keyTypes) {
            String a = aliasFor(t);
            if (a != null) return a;
        }
        return null;
    }

    // The peer's list of acceptable issuers is not used: SPIFFE peers verify against their own trust bundle, and
    // during a CA rotation the list a peer sends may lag behind.

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return aliasForAny(keyTypes);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyType);
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return aliasForAny(keyTypes);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return aliasFor(keyType);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        String a = aliasFor(keyType);
        return a == null ? null : new String[] {a};
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return getClientAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Material m = byAlias(alias);
        // The same array instance every time: netty's provider compares elements by identity to reuse its cache.
        return m == null ? null : m.chain;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Material m = byAlias(alias);
        return m == null ? null : m.key;
    }
}
