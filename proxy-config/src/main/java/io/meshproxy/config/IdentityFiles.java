package io.meshproxy.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The workload identity of the Proxy bootstrap ({@code spec.identity}): where the certificate chain carrying the
 * workload's SPIFFE ID ({@code spiffe://TRUST_DOMAIN/ns/NS/sa/SA}), its private key and the mesh's trust anchors
 * are. proxy-config checks that the files exist; proxy-tls reads, verifies and watches them.
 *
 * @param certificateChain the workload certificate, then its intermediates (PEM); absolute
 * @param privateKey the key of the workload certificate (PEM); absolute
 * @param trustBundle the root certificates peers' chains must lead to (PEM), Istio's {@code root-cert.pem}; absolute
 * @param trustDomain the trust domain of the mesh (Istio's {@code meshConfig.trustDomain}), {@code cluster.local}
 *     unless written: a peer's SPIFFE ID must be in it
 */
public record IdentityFiles(Path certificateChain, Path privateKey, Path trustBundle, String trustDomain) {
    /** Istio's default trust domain. */
    public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";

    public IdentityFiles {
        Objects.requireNonNull(certificateChain, "certificateChain");
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(trustBundle, "trustBundle");
        trustDomain = trustDomain == null ? DEFAULT_TRUST_DOMAIN : trustDomain;
    }
}
