package io.meshproxy.tls.authz;

import java.util.List;

/**
 * Istio's {@code Operation}: what the request does. Set fields AND together, values within a field OR, and a
 * {@code not*} field matches when none of its values does.
 *
 * @param hosts the request's {@code :authority} as sent, port included, matched case-insensitively: write
 *        {@code ["example.com", "example.com:*"]} to accept any port, as Istio's security guide advises
 * @param ports destination ports: the port of the listener that took the connection
 * @param methods {@code :method}, case-sensitive
 * @param paths {@code :path} without the query string, after removal of {@code .} and {@code ..} segments
 */
public record Operation(List<String> hosts, List<String> notHosts, List<Integer> ports, List<Integer> notPorts,
        List<String> methods, List<String> notMethods, List<String> paths, List<String> notPaths) {

    public Operation {
        hosts = Source.copy(hosts);
        notHosts = Source.copy(notHosts);
        ports = ports == null ? List.of() : List.copyOf(ports);
        notPorts = notPorts == null ? List.of() : List.copyOf(notPorts);
        methods = Source.copy(methods);
        notMethods = Source.copy(notMethods);
        paths = Source.copy(paths);
        notPaths = Source.copy(notPaths);
        new CompiledPolicy.CompiledOperation(hosts, notHosts, ports, notPorts, methods, notMethods, paths,
                notPaths); // validates
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link Operation}; unset fields stay empty (no condition). */
    public static final class Builder {
        private List<String> hosts, notHosts, methods, notMethods, paths, notPaths;
        private List<Integer> ports, notPorts;

        public Builder hosts(String... v) {
            hosts = List.of(v);
            return this;
        }

        public Builder notHosts(String... v) {
            notHosts = List.of(v);
            return this;
        }

        public Builder ports(Integer... v) {
            ports = List.of(v);
            return this;
        }

        public Builder notPorts(Integer... v) {
            notPorts = List.of(v);
            return this;
        }

        public Builder methods(String... v) {
            methods = List.of(v);
            return this;
        }

        public Builder notMethods(String... v) {
            notMethods = List.of(v);
            return this;
        }

        public Builder paths(String... v) {
            paths = List.of(v);
            return this;
        }

        public Builder notPaths(String... v) {
            notPaths = List.of(v);
            return this;
        }

        public Operation build() {
            return new Operation(hosts, notHosts, ports, notPorts, methods, notMethods, paths, notPaths);
        }
    }
}
