package io.meshproxy.tls.authz;

import java.util.List;
import java.util.Objects;

/**
 * One {@code jwtRules} entry of Istio's {@code RequestAuthentication}: which issuer's tokens are accepted,
 * for which audiences, checked against which keys, and where in the request the token is found.
 *
 * @param issuer the {@code iss} a token must carry; it also selects this rule for a token
 * @param audiences accepted {@code aud} values; empty accepts any audience
 * @param jwks the issuer's keys: {@link JwksSource#inline(String)}, {@link JwksSource#file(java.nio.file.Path)}
 *        or {@link JwksSource#remote(java.net.URI, java.time.Duration)} (Istio's {@code jwks},
 *        {@code jwksUri})
 * @param fromHeaders headers the token is taken from, each with the prefix before the token; when both
 *        {@code fromHeaders} and {@code fromParams} are empty, Istio's defaults apply:
 *        {@code Authorization: Bearer <token>} and the {@code access_token} query parameter
 * @param fromParams query parameters the token is taken from
 * @param forwardOriginalToken whether the token's header is passed upstream (by default it is removed)
 * @param outputPayloadToHeader a header to carry the verified payload upstream (base64url JSON), or null
 */
public record JwtRule(String issuer, List<String> audiences, JwksSource jwks, List<JwtHeader> fromHeaders,
        List<String> fromParams, boolean forwardOriginalToken, String outputPayloadToHeader) {

    /** A header carrying a token after {@code prefix} (for example {@code Authorization}, {@code "Bearer "}). */
    public record JwtHeader(String name, String prefix) {
        public JwtHeader {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("fromHeaders: a header needs a name");
            }
            prefix = prefix == null ? "" : prefix;
        }
    }

    private static final List<JwtHeader> DEFAULT_HEADERS = List.of(new JwtHeader("authorization", "Bearer "));
    private static final List<String> DEFAULT_PARAMS = List.of("access_token");

    public JwtRule {
        if (issuer == null || issuer.isEmpty()) {
            throw new IllegalArgumentException("a JWT rule needs an issuer");
        }
        Objects.requireNonNull(jwks, "jwks (jwks, jwksUri or a file) of issuer " + issuer);
        audiences = audiences == null ? List.of() : List.copyOf(audiences);
        fromHeaders = fromHeaders == null ? List.of() : List.copyOf(fromHeaders);
        fromParams = fromParams == null ? List.of() : List.copyOf(fromParams);
        if (fromHeaders.isEmpty() && fromParams.isEmpty()) {
            fromHeaders = DEFAULT_HEADERS;
            fromParams = DEFAULT_PARAMS;
        }
        for (String p : fromParams) {
            if (p == null || p.isEmpty()) {
                throw new IllegalArgumentException("fromParams: an empty parameter name");
            }
        }
        if (outputPayloadToHeader != null && outputPayloadToHeader.isEmpty()) {
            outputPayloadToHeader = null;
        }
    }

    /** A rule with Istio's defaults: token from {@code Authorization: Bearer} or {@code access_token}, removed. */
    public static JwtRule of(String issuer, JwksSource jwks, String... audiences) {
        return new JwtRule(issuer, List.of(audiences), jwks, null, null, false, null);
    }
}
