package io.meshproxy.tls.authz;

import java.util.List;
import java.util.Objects;

/**
 * Istio's {@code AuthorizationPolicy} for the workload behind this proxy (the selector has already chosen it):
 * an action and the rules that trigger it. A policy matches a request when any of its rules does.
 *
 * <ul>
 *   <li>{@code ALLOW} with no rules matches nothing: while it is the only ALLOW policy, every request is denied.
 *       The empty spec {@code {}} is exactly that (Istio's deny-all): {@link #denyAll(String, String)}.</li>
 *   <li>{@code DENY} with no rules matches nothing and so has no effect; {@code DENY} with the rule {@code {}}
 *       denies everything, ALLOW policies notwithstanding (DENY is evaluated first).</li>
 *   <li>{@code CUSTOM} and {@code AUDIT} are not supported: construction fails.</li>
 * </ul>
 */
public record AuthorizationPolicy(String name, String namespace, Action action, List<Rule> rules) {

    /** The policy action; Istio's default is ALLOW. */
    public enum Action { ALLOW, DENY, AUDIT, CUSTOM }

    public AuthorizationPolicy {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("an authorization policy needs a name");
        }
        Objects.requireNonNull(namespace, "namespace");
        action = action == null ? Action.ALLOW : action;
        if (action == Action.AUDIT || action == Action.CUSTOM) {
            throw new IllegalArgumentException("authorization policy " + namespace + "/" + name + ": action "
                    + action + " is not supported (ALLOW and DENY are)");
        }
        rules = rules == null ? List.of() : List.copyOf(rules);
    }

    /** The empty spec {@code {}}: action ALLOW (the default) with no rules, which denies every request. */
    public static AuthorizationPolicy denyAll(String name, String namespace) {
        return new AuthorizationPolicy(name, namespace, Action.ALLOW, List.of());
    }

    public static AuthorizationPolicy allow(String name, String namespace, Rule... rules) {
        return new AuthorizationPolicy(name, namespace, Action.ALLOW, List.of(rules));
    }

    public static AuthorizationPolicy deny(String name, String namespace, Rule... rules) {
        return new AuthorizationPolicy(name, namespace, Action.DENY, List.of(rules));
    }

    /** Whether this is the empty spec, Istio's deny-all (an ALLOW policy that no request can match). */
    public boolean isDenyAll() {
        return action == Action.ALLOW && rules.isEmpty();
    }
}
