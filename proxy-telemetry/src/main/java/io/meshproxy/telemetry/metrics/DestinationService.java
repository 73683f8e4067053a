package io.meshproxy.telemetry.metrics;

import io.meshproxy.telemetry.WorkloadInfo;

/**
 * Istio's {@code destination_service}, {@code destination_service_name} and {@code destination_service_namespace}
 * labels, derived from an upstream cluster's name the way Istio names its clusters: {@code outbound|PORT|SUBSET|HOST}
 * gives {@code HOST} (e.g. {@code reviews.default.svc.cluster.local}), its first DNS label is the service name
 * ({@code reviews}) and its second the namespace ({@code default}). A cluster named by a plain host
 * ({@code reviews.default.svc.cluster.local}, or just {@code backend}) is read the same way. Only configured
 * cluster names ever reach here, so these labels are bounded by the configuration, never by traffic.
 *
 * @param service the service's host name
 * @param name its short name
 * @param namespace its namespace, {@code unknown} when the host does not say
 */
record DestinationService(String service, String name, String namespace) {
    static final DestinationService UNKNOWN =
            new DestinationService(WorkloadInfo.UNKNOWN, WorkloadInfo.UNKNOWN, WorkloadInfo.UNKNOWN);

    /** The service of {@code cluster}, or {@link #UNKNOWN} for no cluster (a local reply before routing). */
    static DestinationService ofCluster(String cluster) {
        if (cluster == null || cluster.isEmpty()) {
            return UNKNOWN;
        }
        String host = cluster;
        if (cluster.indexOf('|') >= 0) {
            String[] parts = cluster.split("\\|", -1);
            host = parts.length == 4 ? parts[3] : "";
            if (host.isEmpty()) {
                return UNKNOWN; // e.g. inbound|9080||: the caller knows better (the local workload)
            }
        }
        int dot = host.indexOf('.');
        if (dot < 0) {
            return new DestinationService(host, host, WorkloadInfo.UNKNOWN);
        }
        String name = host.substring(0, dot);
        int next = host.indexOf('.', dot + 1);
        String ns = next < 0 ? host.substring(dot + 1) : host.substring(dot + 1, next);
        return new DestinationService(host, name, ns.isEmpty() ? WorkloadInfo.UNKNOWN : ns);
    }

    /**
     * The service an inbound request reaches when the cluster name does not tell (Istio's {@code inbound|PORT||}):
     * the local workload's {@code app} (else its name) in its namespace, as the Kubernetes service FQDN.
     */
    static DestinationService ofWorkload(WorkloadInfo w) {
        String name = !WorkloadInfo.UNKNOWN.equals(w.app()) ? w.app() : w.name();
        if (WorkloadInfo.UNKNOWN.equals(name)) {
            return UNKNOWN;
        }
        return new DestinationService(name + "." + w.namespace() + ".svc.cluster.local", name, w.namespace());
    }
}
