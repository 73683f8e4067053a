package io.meshproxy.tls.authz;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;

/**
 * Istio's {@code RequestAuthentication} as Envoy's {@code jwt_authn} filter runs it. For each request:
 * <ul>
 *   <li>no token in any configured location: the request goes on without {@code request.auth.*} (a
 *       RequestAuthentication alone requires no token; an authorization policy with {@code requestPrincipals}
 *       does);</li>
 *   <li>a token: the rule is chosen by the token's {@code iss}; its {@code exp} and {@code nbf} are checked with
 *       a clock skew (60 s by default, Envoy's), its {@code aud} must contain one of the rule's audiences (when it
 *       has some), and its signature must verify against the issuer's key with the token's {@code kid} (any key
 *       of the algorithm when it names none). Valid: {@link RequestAuth} is stored on the context under
 *       {@link RequestAuth#ATTRIBUTE}, the token's header is removed unless {@code forwardOriginalToken}, and the
 *       payload is copied to {@code outputPayloadToHeader}. Invalid: 401 with Envoy's reason as the body
 *       (e.g. {@code Jwt verification fails}, {@code Jwt is expired}), the body discarded, nothing sent
 *       upstream.</li>
 * </ul>
 * Place it before the {@link AuthorizationFilter}. Never blocks: keys are ready verifiers, and a remote key
 * set still loading is waited for on its future (see {@link JwksSource}).
 */
public final class JwtAuthenticationFilter implements HttpFilter {
    /** Envoy's reasons, sent as the 401 body. */
    static final String EXPIRED = "Jwt is expired";
    static final String NOT_YET_VALID = "Jwt not yet valid";
    static final String AUDIENCE = "Audiences in Jwt are not allowed";
    static final String UNKNOWN_ISSUER = "Jwt issuer is not configured";
    static final String NO_KEY = "Jwks doesn't have key to match kid or alg from Jwt";
    static final String VERIFICATION_FAILS = "Jwt verification fails";
    static final String BAD_FORMAT = "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
    static final String JWKS_FETCH_FAILED = "Jwks remote fetch is failed";
    /** Longest token accepted; a longer one is rejected without parsing. */
    static final int MAX_TOKEN_LENGTH = 16 * 1024;

    private final Map<String, JwtRule> rulesByIssuer;
    private final List<JwtRule> rules;
    private final Clock clock;
    private final long skewMillis;
    /** Envoy's {@code jwt_authn.allowed} (with or without a token) and {@code jwt_authn.denied}. */
    public final LongAdder allowed;
    public final LongAdder denied;

    /** With Envoy's 60 s clock skew and the system clock. */
    public JwtAuthenticationFilter(List<JwtRule> rules) {
        this(rules, Clock.systemUTC(), Duration.ofSeconds(60));
    }

    public JwtAuthenticationFilter(List<JwtRule> rules, Clock clock, Duration clockSkew) {
        this(rules, clock, clockSkew, new LongAdder(), new LongAdder());
    }

    /**
     * Counting into {@code allowed} and {@code denied}, which may outlive this filter (a proxy swapping in new
     * rules keeps its {@code jwt_authn} counts across the swap).
     */
    public JwtAuthenticationFilter(List<JwtRule> rules, Clock clock, Duration clockSkew, LongAdder allowed,
            LongAdder denied) {
        this.allowed = java.util.Objects.requireNonNull(allowed, "allowed");
        this.denied = java.util.Objects.requireNonNull(denied, "denied");
        this.rules = List.copyOf(rules);
        this.clock = java.util.Objects.requireNonNull(clock, "clock");
        if (clockSkew.isNegative()) {
            throw new IllegalArgumentException("clock skew must not be negative");
        }
        this.skewMillis = clockSkew.toMillis();
        Map<String, JwtRule> byIssuer = new HashMap<>();
        for (JwtRule r : this.rules) {
            if (byIssuer.put(r.issuer(), r) != null) {
                throw new IllegalArgumentException("two JWT rules for issuer " + r.issuer());
            }
        }
        this.rulesByIssuer = Map.copyOf(byIssuer);
    }

    /** Where a token was found. */
    private record Found(String token, String header) {}

    @Override
    public CompletionStage<HttpResponse> filter(RequestContext ctx, HttpRequest request, HttpService next) {
        Found found = extract(request);
        if (found == null) {
            allowed.increment();
            return next.serve(ctx, request);
        }
        if (found.token.length() > MAX_TOKEN_LENGTH) {
            return reject(ctx, request, VERIFICATION_FAILS);
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(found.token);
            claims = jwt.getJWTClaimsSet();
        } catch (java.text.ParseException | RuntimeException e) {
            return reject(ctx, request, BAD_FORMAT);
        }
        JwtRule rule = claims.getIssuer() == null ? null : rulesByIssuer.get(claims.getIssuer());
        if (rule == null) {
            return reject(ctx, request, UNKNOWN_ISSUER);
        }
        long now = clock.millis();
        Date exp = claims.getExpirationTime();
        if (exp != null && now > exp.getTime() + skewMillis) {
            return reject(ctx, request, EXPIRED);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now + skewMillis < nbf.getTime()) {
            return reject(ctx, request, NOT_YET_VALID);
        }
        if (!rule.audiences().isEmpty() && !intersects(claims.getAudience(), rule.audiences())) {
            return reject(ctx, request, AUDIENCE);
        }
        CompletableFuture<JwksSource.Keys> keys = rule.jwks().keys();
        if (keys.isDone()) {
            return verified(ctx, request, next, rule, found, jwt, claims, keys);
        }
        // The issuer's remote keys are still loading: continue on this request's event loop once they are in.
        return keys.handle((k, e) -> null).thenComposeAsync(
                ignored -> verified(ctx, request, next, rule, found, jwt, claims, keys), ctx.eventLoop());
    }

    private CompletionStage<HttpResponse> verified(RequestContext ctx, HttpRequest request, HttpService next,
            JwtRule rule, Found found, SignedJWT jwt, JWTClaimsSet claims, CompletableFuture<JwksSource.Keys> keys) {
        if (keys.isCompletedExceptionally()) {
            return reject(ctx, request, JWKS_FETCH_FAILED);
        }
        List<JWSVerifier> verifiers = keys.join().verifiersFor(jwt.getHeader().getKeyID(), jwt.getHeader().getAlgorithm());
        if (verifiers.isEmpty()) {
            return reject(ctx, request, NO_KEY);
        }
        boolean ok = false;
        for (JWSVerifier v : verifiers) {
            try {
                if (jwt.verify(v)) {
                    ok = true;
                    break;
                }
            } catch (JOSEException | IllegalStateException e) {
                // this key cannot check this token: try the next one
            }
        }
        if (!ok) {
            return reject(ctx, request, VERIFICATION_FAILS);
        }
        String principal = claims.getIssuer() + "/" + (claims.getSubject() == null ? "" : claims.getSubject());
        String presenter = claims.getClaim("azp") instanceof String s ? s : null;
        ctx.attribute(RequestAuth.ATTRIBUTE, new RequestAuth(principal, claims.getAudience(), presenter,
                claims.getClaims()));
        if (found.header != null && !rule.forwardOriginalToken()) {
            request.headers().remove(found.header);
        }
        if (rule.outputPayloadToHeader() != null) {
            request.headers().set(rule.outputPayloadToHeader(), jwt.getParsedParts()[1].toString());
        }
        allowed.increment();
        return next.serve(ctx, request);
    }

    private static boolean intersects(List<String> tokenAudiences, List<String> allowed) {
        if (tokenAudiences == null) {
            return false;
        }
        for (String a : tokenAudiences) {
            if (allowed.contains(a)) {
                return true;
            }
        }
        return false;
    }

    private CompletionStage<HttpResponse> reject(RequestContext ctx, HttpRequest request, String reason) {
        denied.increment();
        request.body().discard();
        ctx.responseCodeDetails("jwt_authn_access_denied{" + reason.replace(' ', '_') + "}");
        HttpResponse r = HttpResponse.of(401, "text/plain", reason);
        r.headers().set("www-authenticate", "Bearer realm=\"" + (request.authority() == null ? "" : "http://"
                + request.authority()) + "\", error=\"invalid_token\"");
        return CompletableFuture.completedFuture(r);
    }

    /** The first token found, trying each rule's header locations, then its query parameters. */
    private Found extract(HttpRequest request) {
        for (JwtRule rule : rules) {
            for (JwtRule.JwtHeader h : rule.fromHeaders()) {
                String v = request.headers().get(h.name());
                if (v != null && v.length() > h.prefix().length()
                        && v.regionMatches(true, 0, h.prefix(), 0, h.prefix().length())) {
                    return new Found(v.substring(h.prefix().length()).trim(), h.name());
                }
            }
        }
        String path = request.path();
        int q = path.indexOf('?');
        if (q < 0) {
            return null;
        }
        for (JwtRule rule : rules) {
            for (String param : rule.fromParams()) {
                String v = queryParam(path, q + 1, param);
                if (v != null && !v.isEmpty()) {
                    return new Found(v, null);
                }
            }
        }
        return null;
    }

    static String queryParam(String path, int from, String name) {
        int end = path.indexOf('#', from);
        end = end < 0 ? path.length() : end;
        int i = from;
        while (i < end) {
            int amp = path.indexOf('&', i);
            if (amp < 0 || amp > end) {
                amp = end;
            }
            int eq = path.indexOf('=', i);
            if (eq > i && eq < amp && eq - i == name.length() && path.startsWith(name, i)) {
                try {
                    return URLDecoder.decode(path.substring(eq + 1, amp), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    return null; // a malformed escape: no token here
                }
            }
            i = amp + 1;
        }
        return null;
    }
}
