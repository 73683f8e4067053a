package io.meshproxy.tls.authz;

import java.util.List;

/**
 * Istio's {@code Source}: who sent the request. Every field that is set must match (AND); within a field any
 * value matches (OR); a {@code not*} field matches when none of its values does. An unset (empty) field places
 * no condition.
 *
 * @param principals peer identities from the mTLS certificate, {@code cluster.local/ns/NS/sa/SA}; string match
 *        (exact, {@code prefix*}, {@code *suffix}, {@code *} for any authenticated peer)
 * @param namespaces the peer's namespace, taken from its principal (so mTLS only)
 * @param ipBlocks the downstream connection's source IP: addresses or CIDR blocks, IPv4 or IPv6
 * @param requestPrincipals the JWT identity {@code iss/sub} set by {@link JwtAuthenticationFilter}
 */
public record Source(List<String> principals, List<String> notPrincipals, List<String> namespaces,
        List<String> notNamespaces, List<String> ipBlocks, List<String> notIpBlocks, List<String> requestPrincipals,
        List<String> notRequestPrincipals) {

    public Source {
        principals = copy(principals);
        notPrincipals = copy(notPrincipals);
        namespaces = copy(namespaces);
        notNamespaces = copy(notNamespaces);
        ipBlocks = copy(ipBlocks);
        notIpBlocks = copy(notIpBlocks);
        requestPrincipals = copy(requestPrincipals);
        notRequestPrincipals = copy(notRequestPrincipals);
        new CompiledPolicy.CompiledSource(principals, notPrincipals, namespaces, notNamespaces, ipBlocks,
                notIpBlocks, requestPrincipals, notRequestPrincipals); // validates
    }

    static List<String> copy(List<String> values) {
        return values == null ? List.of() : List.copyOf(values);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Source}; unset fields stay empty (no condition). */
    public static final class Builder {
        private List<String> principals, notPrincipals, namespaces, notNamespaces, ipBlocks, notIpBlocks,
                requestPrincipals, notRequestPrincipals;

        public Builder principals(String... v) {
            principals = List.of(v);
            return this;
        }

        public Builder notPrincipals(String... v) {
            notPrincipals = List.of(v);
            return this;
        }

        public Builder namespaces(String... v) {
            namespaces = List.of(v);
            return this;
        }

        public Builder notNamespaces(String... v) {
            notNamespaces = List.of(v);
            return this;
        }

        public Builder ipBlocks(String... v) {
            ipBlocks = List.of(v);
            return this;
        }

        public Builder notIpBlocks(String... v) {
            notIpBlocks = List.of(v);
            return this;
        }

        public Builder requestPrincipals(String... v) {
            requestPrincipals = List.of(v);
            return this;
        }

        public Builder notRequestPrincipals(String... v) {
            notRequestPrincipals = List.of(v);
            return this;
        }

        public Source build() {
            return new Source(principals, notPrincipals, namespaces, notNamespaces, ipBlocks, notIpBlocks,
                    requestPrincipals, notRequestPrincipals);
        }
    }
}
