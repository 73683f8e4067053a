package io.meshproxy.tls.authz;

import io.meshproxy.core.filter.RequestContext;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a verified JWT says about a request: Istio's {@code request.auth.*} attributes. The
 * {@link JwtAuthenticationFilter} stores it on the {@link RequestContext} under {@link #ATTRIBUTE}; the
 * {@link AuthorizationFilter} reads it there. Absent when the request carried no token.
 *
 * @param principal {@code request.auth.principal}: {@code iss/sub}
 * @param audiences {@code request.auth.audiences}: the token's {@code aud}
 * @param presenter {@code request.auth.presenter}: the token's {@code azp}, or null
 * @param claims {@code request.auth.claims}: every claim, as nimbus parsed it (strings, numbers, lists, maps)
 */
public record RequestAuth(String principal, List<String> audiences, String presenter, Map<String, Object> claims) {
    /** The {@link RequestContext#attribute(String)} key under which the verified token's attributes live. */
    public static final String ATTRIBUTE = "io.meshproxy.tls.authz.RequestAuth";

    public RequestAuth {
        Objects.requireNonNull(principal, "principal");
        audiences = audiences == null ? List.of() : List.copyOf(audiences);
        claims = claims == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(claims));
    }

    /** The request's verified JWT attributes, or null when it carried none. */
    public static RequestAuth of(RequestContext ctx) {
        Object v = ctx.attribute(ATTRIBUTE);
        return v instanceof RequestAuth a ? a : null;
    }
}
