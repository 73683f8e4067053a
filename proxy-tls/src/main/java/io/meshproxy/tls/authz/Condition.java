package io.meshproxy.tls.authz;

import java.util.List;

/**
 * Istio's {@code Condition} (a {@code when} entry): the attribute named by {@code key} matches one of
 * {@code values} (when set) and none of {@code notValues}. An absent attribute matches no value, so it fails
 * {@code values} and passes {@code notValues}.
 *
 * <p>Keys: {@code request.headers[NAME]}, {@code source.ip} (CIDR values), {@code source.namespace},
 * {@code source.principal}, {@code request.auth.principal}, {@code request.auth.audiences},
 * {@code request.auth.presenter}, {@code request.auth.claims[NAME]} (nested: {@code [a][b]}; a list claim
 * matches when any element does), {@code destination.port}. Others (remote.ip, destination.ip,
 * connection.sni, experimental.*) are rejected.
 */
public record Condition(String key, List<String> values, List<String> notValues) {

    public Condition {
        values = Source.copy(values);
        notValues = Source.copy(notValues);
        CompiledPolicy.CompiledCondition.compile(key, values, notValues); // validates
    }

    public static Condition of(String key, String... values) {
        return new Condition(key, List.of(values), List.of());
    }

    public static Condition not(String key, String... notValues) {
        return new Condition(key, List.of(), List.of(notValues));
    }
}
