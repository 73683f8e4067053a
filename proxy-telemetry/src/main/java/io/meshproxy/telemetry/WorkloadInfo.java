package io.meshproxy.telemetry;

import java.util.Map;
import java.util.Objects;

/**
 * Who this proxy stands in front of (the Proxy bootstrap's {@code spec.workload}): Istio's metric labels
 * {@code *_workload}, {@code *_workload_namespace}, {@code *_app}, {@code *_version} and the workload's
 * principal come from here. Unknown values are {@code "unknown"}, as Istio writes them.
 *
 * <p>The workload's own principal ({@link #principal()}) is its SPIFFE ID as Istio issues it,
 * {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}: the {@code destination_principal} of the
 * requests it receives over mTLS and the {@code source_principal} of those it sends over mTLS. It is derived
 * from configuration, so {@code serviceAccount} and {@code namespace} must match the workload's certificate.
 *
 * @param name the workload name (a Deployment's name), e.g. {@code reviews-v1}
 * @param namespace its namespace (default {@code default})
 * @param app its {@code app} label
 * @param version its {@code version} label
 * @param serviceAccount its service account (part of its SPIFFE principal)
 * @param labels any other labels
 * @param trustDomain the mesh's trust domain (the Proxy's {@code spec.identity.trustDomain}, Istio's
 *     {@code meshConfig.trustDomain}); default {@code cluster.local}
 */
public record WorkloadInfo(String name, String namespace, String app, String version, String serviceAccount,
        Map<String, String> labels, String trustDomain) {
    public static final String UNKNOWN = "unknown";
    /** Istio's default trust domain. */
    public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";
    public static final WorkloadInfo UNKNOWN_WORKLOAD = new WorkloadInfo(null, null, null, null, null, null);

    public WorkloadInfo {
        name = orUnknown(name);
        namespace = namespace == null || namespace.isBlank() ? "default" : namespace;
        app = orUnknown(app);
        version = orUnknown(version);
        serviceAccount = orUnknown(serviceAccount);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        trustDomain = trustDomain == null || trustDomain.isBlank() ? DEFAULT_TRUST_DOMAIN : trustDomain;
    }

    /** In the default trust domain, {@code cluster.local}. */
    public WorkloadInfo(String name, String namespace, String app, String version, String serviceAccount,
            Map<String, String> labels) {
        this(name, namespace, app, version, serviceAccount, labels, null);
    }

    /** This workload with {@code trustDomain} (null: the default). */
    public WorkloadInfo withTrustDomain(String trustDomain) {
        return new WorkloadInfo(name, namespace, app, version, serviceAccount, labels, trustDomain);
    }

    /**
     * This workload's SPIFFE ID, {@code spiffe://cluster.local/ns/default/sa/productpage}; {@code unknown} when
     * the service account is not known.
     */
    public String principal() {
        return UNKNOWN.equals(serviceAccount) ? UNKNOWN
                : "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
    }

    /**
     * A principal as proxy-core reports it (Istio's form without the scheme, {@code cluster.local/ns/NS/sa/SA})
     * as the SPIFFE URI Istio's metrics, access logs and spans carry; null stays null.
     */
    public static String spiffeUri(String principal) {
        if (principal == null) {
            return null;
        }
        return principal.startsWith("spiffe://") ? principal : "spiffe://" + principal;
    }

    private static String orUnknown(String s) {
        return s == null || s.isBlank() ? UNKNOWN : s;
    }

    /** {@code name} unless unknown, else {@code other}. */
    String nameOr(String other) {
        return UNKNOWN.equals(name) ? Objects.requireNonNullElse(other, UNKNOWN) : name;
    }
}
