package io.meshproxy.core.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Whole-configuration checks: the cross references no single record can check. Every problem is collected
 * and reported in one {@link ConfigException}, each naming where it is, for example
 * {@code clusters[2] 'reviews'} or {@code listeners[0] 'in'.routes.virtualHosts[0].routes[1]}.
 *
 * <ul>
 *   <li>listener names are unique;</li>
 *   <li>no two listeners bind the same non-zero port on the same address (a wildcard address such as
 *       {@code 0.0.0.0} overlaps every address);</li>
 *   <li>the admin server's non-zero port is not a listener's port;</li>
 *   <li>cluster names are unique;</li>
 *   <li>every cluster a route forwards to exists, and so does the subset it names;</li>
 *   <li>every subset of a cluster with endpoints selects at least one of them (a cluster without endpoints
 *       is legal: its requests get 503 UH).</li>
 * </ul>
 */
final class ConfigValidation {
    private static final Set<String> WILDCARD_ADDRESSES = Set.of("0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0");

    private ConfigValidation() {}

    static void validate(List<ListenerConfig> listeners, List<ClusterConfig> clusters, AdminConfig admin) {
        List<String> errors = new ArrayList<>();
        checkListeners(listeners, admin, errors);
        Map<String, ClusterConfig> byName = checkClusters(clusters, errors);
        for (int i = 0; i < listeners.size(); i++) {
            ListenerConfig l = listeners.get(i);
            if (l.routes() != null) {
                checkRoutes(listenerPath(i, l) + ".routes", l.routes(), byName, errors);
            }
        }
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
    }

    private static String listenerPath(int index, ListenerConfig l) {
        return "listeners[" + index + "] '" + l.name() + "'";
    }

    private static String clusterPath(int index, ClusterConfig c) {
        return "clusters[" + index + "] '" + c.name() + "'";
    }

    private static void checkListeners(List<ListenerConfig> listeners, AdminConfig admin, List<String> errors) {
        Map<String, Integer> names = new HashMap<>();
        for (int i = 0; i < listeners.size(); i++) {
            ListenerConfig l = listeners.get(i);
            Integer first = names.putIfAbsent(l.name(), i);
            if (first != null) {
                errors.add(listenerPath(i, l) + ": duplicate listener name, also listeners[" + first + "]");
            }
            if (l.port() == 0) {
                continue;
            }
            for (int j = 0; j < i; j++) {
                ListenerConfig other = listeners.get(j);
                if (other.port() == l.port() && overlaps(other.address(), l.address())) {
                    errors.add(listenerPath(i, l) + ".port: " + l.port() + " on " + l.address()
                            + " is already bound by " + listenerPath(j, other) + " on " + other.address());
                    break;
                }
            }
        }
        if (admin != null && admin.port() != 0) {
            for (int i = 0; i < listeners.size(); i++) {
                ListenerConfig l = listeners.get(i);
                if (l.port() == admin.port()) {
                    errors.add("admin.port: " + admin.port() + " is also the port of " + listenerPath(i, l));
                }
            }
        }
    }

    private static boolean overlaps(String a, String b) {
        return a.equalsIgnoreCase(b) || WILDCARD_ADDRESSES.contains(a) || WILDCARD_ADDRESSES.contains(b);
    }

    /** Reports duplicate names and empty subsets; returns the clusters by name (the first of a duplicate). */
    private static Map<String, ClusterConfig> checkClusters(List<ClusterConfig> clusters, List<String> errors) {
        Map<String, ClusterConfig> byName = new HashMap<>();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < clusters.size(); i++) {
            ClusterConfig c = clusters.get(i);
            Integer first = index.putIfAbsent(c.name(), i);
            if (first != null) {
                errors.add(clusterPath(i, c) + ": duplicate cluster name, also clusters[" + first + "]");
            } else {
                byName.put(c.name(), c);
            }
            if (c.endpoints().isEmpty()) {
                continue;
            }
            for (int s = 0; s < c.subsets().size(); s++) {
                SubsetConfig subset = c.subsets().get(s);
                if (c.endpoints().stream().noneMatch(subset::selects)) {
                    errors.add(clusterPath(i, c) + ".subsets[" + s + "] '" + subset.name()
                            + "': selects no endpoint of the cluster (labels " + new TreeMap<>(subset.labels()) + ")");
                }
            }
        }
        return byName;
    }

    private static void checkRoutes(String path, RouteConfiguration routes, Map<String, ClusterConfig> clusters,
            List<String> errors) {
        for (int v = 0; v < routes.virtualHosts().size(); v++) {
            VirtualHost vh = routes.virtualHosts().get(v);
            for (int r = 0; r < vh.routes().size(); r++) {
                if (!(vh.routes().get(r).action() instanceof RouteAction action)) {
                    continue;
                }
                String routePath = path + ".virtualHosts[" + v + "].routes[" + r + "]";
                for (int w = 0; w < action.clusters().size(); w++) {
                    WeightedCluster target = action.clusters().get(w);
                    String targetPath = routePath + ".action.clusters[" + w + "]";
                    ClusterConfig cluster = clusters.get(target.cluster());
                    if (cluster == null) {
                        errors.add(targetPath + ".cluster: unknown cluster '" + target.cluster() + "'");
                    } else if (target.subset() != null && cluster.subset(target.subset()) == null) {
                        errors.add(targetPath + ".subset: cluster '" + target.cluster() + "' defines no subset '"
                                + target.subset() + "'");
                    }
                }
            }
        }
    }
}
