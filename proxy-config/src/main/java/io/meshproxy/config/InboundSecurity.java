package io.meshproxy.config;

import io.meshproxy.tls.authz.AuthorizationPolicy;
import io.meshproxy.tls.authz.JwksSource;
import io.meshproxy.tls.authz.JwtRule;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What Istio's security resources ask of requests on this workload's INBOUND listeners: the
 * {@code AuthorizationPolicy} resources that apply to it (all of them: Istio combines them, DENY first) and the
 * {@code jwtRules} of every {@code RequestAuthentication} that applies, merged. Immutable; a snapshot of one
 * configuration version.
 *
 * <p>JWT key sets are described, not opened: {@link JwtRuleConfig#toRule} makes the running
 * {@link JwtRule} (a remote {@code jwksUri} starts fetching only then), so validating a configuration never
 * reaches the network.
 *
 * @param policies the applying AuthorizationPolicies, in the order written; empty: every request is allowed
 * @param jwtRules the applying RequestAuthentications' {@code jwtRules}, one per issuer; empty: no token is
 *     checked (and none is required)
 */
public record InboundSecurity(List<AuthorizationPolicy> policies, List<JwtRuleConfig> jwtRules) {
    /** No policy, no JWT rule: requests pass unchecked. */
    public static final InboundSecurity NONE = new InboundSecurity(List.of(), List.of());

    public InboundSecurity {
        policies = policies == null ? List.of() : List.copyOf(policies);
        jwtRules = jwtRules == null ? List.of() : List.copyOf(jwtRules);
    }

    /** Whether nothing is to be checked. */
    public boolean isEmpty() {
        return policies.isEmpty() && jwtRules.isEmpty();
    }

    /**
     * Where an issuer's JSON Web Key Set comes from: exactly one of Istio's {@code jwks} (inline JSON), a local file
     * ({@code jwksUri: file:///...}, meshproxy's form for a key set on disk) or an http(s) {@code jwksUri}.
     *
     * @param fetchTimeout Istio's {@code timeout} for a remote fetch (5 s unless written)
     */
    public record Jwks(String inline, Path file, URI uri, Duration fetchTimeout) {
        /** Istio's default fetch timeout of a {@code jwksUri}. */
        public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
        /** Istio's default refresh interval of a {@code jwksUri} ({@code PILOT_JWT_PUB_KEY_REFRESH_INTERVAL}). */
        public static final Duration REFRESH_INTERVAL = Duration.ofMinutes(20);

        public Jwks {
            int set = (inline != null ? 1 : 0) + (file != null ? 1 : 0) + (uri != null ? 1 : 0);
            if (set != 1) {
                throw new IllegalArgumentException("a JWKS comes from exactly one of inline JSON, a file, a URI");
            }
            fetchTimeout = fetchTimeout == null ? DEFAULT_TIMEOUT : fetchTimeout;
        }

        /**
         * The key set, ready: inline and file sets are parsed now; a URI starts its first fetch now and is refreshed
         * every 20 minutes on {@code scheduler}. Close the result to stop the refresh.
         */
        public JwksSource open(HttpClient client, ScheduledExecutorService scheduler) {
            if (inline != null) {
                return JwksSource.inline(inline);
            }
            if (file != null) {
                return JwksSource.file(file);
            }
            return JwksSource.remote(uri, REFRESH_INTERVAL, fetchTimeout, client, scheduler);
        }
    }

    /**
     * One {@code jwtRules} entry of a {@code RequestAuthentication}, as written; see {@link JwtRule} for the
     * meaning of each field.
     */
    public record JwtRuleConfig(String issuer, List<String> audiences, Jwks jwks, List<JwtRule.JwtHeader> fromHeaders,
            List<String> fromParams, boolean forwardOriginalToken, String outputPayloadToHeader) {
        public JwtRuleConfig {
            Objects.requireNonNull(issuer, "issuer");
            Objects.requireNonNull(jwks, "jwks");
            audiences = audiences == null ? List.of() : List.copyOf(audiences);
            fromHeaders = fromHeaders == null ? List.of() : List.copyOf(fromHeaders);
            fromParams = fromParams == null ? List.of() : List.copyOf(fromParams);
        }

        /** The running rule, its key set opened ({@link Jwks#open}); the caller closes {@link JwtRule#jwks()}. */
        public JwtRule toRule(HttpClient client, ScheduledExecutorService scheduler) {
            return new JwtRule(issuer, audiences, jwks.open(client, scheduler), fromHeaders, fromParams,
                    forwardOriginalToken, outputPayloadToHeader);
        }
    }
}
