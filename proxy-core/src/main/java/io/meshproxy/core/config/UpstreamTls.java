package io.meshproxy.core.config;

import java.util.List;

/**
 * TLS toward a cluster's endpoints (Istio's DestinationRule {@code trafficPolicy.tls}). The certificates
 * themselves come from the registered {@link io.meshproxy.core.tls.TransportSecurity}.
 *
 * @param mode SIMPLE (verify the server), MUTUAL (also present {@code clientCertificate}), ISTIO_MUTUAL (mTLS
 *     with the workload's own SPIFFE identity)
 * @param sni the server name sent; null for none (ISTIO_MUTUAL: Istio's {@code outbound_.PORT_.SUBSET_.HOST})
 * @param subjectAltNames accepted server SANs; empty for any that chains to the trust anchors (and, for
 *     ISTIO_MUTUAL, carries a SPIFFE ID of the trust domain)
 * @param caCertificates trust anchors file for SIMPLE / MUTUAL; null: the system's (SIMPLE) or the mesh's
 * @param clientCertificate client certificate chain file for MUTUAL
 * @param privateKey its key file for MUTUAL
 */
public record UpstreamTls(Mode mode, String sni, List<String> subjectAltNames, String caCertificates,
        String clientCertificate, String privateKey) {

    /** Istio's client TLS modes (DISABLE is the absence of an {@code UpstreamTls}). */
    public enum Mode { SIMPLE, MUTUAL, ISTIO_MUTUAL }

    public UpstreamTls {
        Checks.required("mode", mode);
        subjectAltNames = Checks.list("subjectAltNames", subjectAltNames);
        if (mode == Mode.MUTUAL && (clientCertificate == null || privateKey == null)) {
            throw Checks.fail("clientCertificate, privateKey", "MUTUAL needs both");
        }
    }

    /** mTLS with the workload identity, no SNI, any peer of the trust domain. */
    public static final UpstreamTls ISTIO_MUTUAL = new UpstreamTls(Mode.ISTIO_MUTUAL, null, null, null, null, null);
}
