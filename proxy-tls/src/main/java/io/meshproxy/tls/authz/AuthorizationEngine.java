package io.meshproxy.tls.authz;

import java.util.ArrayList;
import java.util.List;

/**
 * The authorization policies that apply to this workload, compiled, and Istio's order of evaluation:
 * <ol>
 *   <li>if any DENY policy matches the request, deny it;</li>
 *   <li>otherwise, if there are no ALLOW policies, allow it;</li>
 *   <li>otherwise allow it only if some ALLOW policy matches.</li>
 * </ol>
 * Immutable and thread-safe; build a new one to change the policies.
 */
public final class AuthorizationEngine {
    private final CompiledPolicy[] deny;
    private final CompiledPolicy[] allow;

    private AuthorizationEngine(CompiledPolicy[] deny, CompiledPolicy[] allow) {
        this.deny = deny;
        this.allow = allow;
    }

    public static AuthorizationEngine of(AuthorizationPolicy... policies) {
        return of(List.of(policies));
    }

    public static AuthorizationEngine of(List<AuthorizationPolicy> policies) {
        List<CompiledPolicy> deny = new ArrayList<>();
        List<CompiledPolicy> allow = new ArrayList<>();
        for (AuthorizationPolicy p : policies) {
            (p.action() == AuthorizationPolicy.Action.DENY ? deny : allow).add(new CompiledPolicy(p));
        }
        return new AuthorizationEngine(deny.toArray(CompiledPolicy[]::new), allow.toArray(CompiledPolicy[]::new));
    }

    /**
     * The decision for one request.
     *
     * @param allowed whether the request may proceed
     * @param matchedPolicy the deciding rule in Envoy's form {@code ns[NS]-policy[NAME]-rule[I]}, or null when
     *        no rule decided (no ALLOW policy exists, or none matched)
     */
    public record Decision(boolean allowed, String matchedPolicy) {
        /** Envoy's response code details for this decision. */
        public String details() {
            return allowed ? null : "rbac_access_denied_matched_policy[" + (matchedPolicy == null ? "none" : matchedPolicy) + "]";
        }
    }

    private static final Decision ALLOWED_NO_POLICY = new Decision(true, null);
    private static final Decision DENIED_NO_MATCH = new Decision(false, null);

    public Decision check(CheckRequest request) {
        for (CompiledPolicy p : deny) {
            String rule = p.match(request);
            if (rule != null) {
                return new Decision(false, rule);
            }
        }
        if (allow.length == 0) {
            return ALLOWED_NO_POLICY;
        }
        for (CompiledPolicy p : allow) {
            String rule = p.match(request);
            if (rule != null) {
                return new Decision(true, rule);
            }
        }
        return DENIED_NO_MATCH;
    }
}
