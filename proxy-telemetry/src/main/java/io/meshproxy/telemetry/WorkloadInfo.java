package io.meshproxy.telemetry;

import java.util.Map;
import java.util.Objects;

/**
 * Who this proxy stands in front of (the Proxy bootstrap's {@code spec.workload}): Istio's metric labels
 * {@code *_workload}, {@code *_workload_namespace}, {@code *_app}, {@code *_version} and the workload's
 * principal come from here. Unknown values are {@code "unknown"}, as Istio writes them.
 *
 * @param name the workload name (a Deployment's name), e.g. {@code reviews-v1}
 * @param namespace its namespace (default {@code default})
 * @param app its {@code app} label
 * @param version its {@code version} label
 * @param serviceAccount its service account (the SPIFFE principal comes with mTLS)
 * @param labels any other labels
 */
public record WorkloadInfo(String name, String namespace, String app, String version, String serviceAccount,
        Map<String, String> labels) {
    public static final String UNKNOWN = "unknown";
    public static final WorkloadInfo UNKNOWN_WORKLOAD = new WorkloadInfo(null, null, null, null, null, null);

    public WorkloadInfo {
        name = orUnknown(name);
        namespace = namespace == null || namespace.isBlank() ? "default" : namespace;
        app = orUnknown(app);
        version = orUnknown(version);
        serviceAccount = orUnknown(serviceAccount);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    private static String orUnknown(String s) {
        return s == null || s.isBlank() ? UNKNOWN : s;
    }

    /** {@code name} unless unknown, else {@code other}. */
    String nameOr(String other) {
        return UNKNOWN.equals(name) ? Objects.requireNonNullElse(other, UNKNOWN) : name;
    }
}
