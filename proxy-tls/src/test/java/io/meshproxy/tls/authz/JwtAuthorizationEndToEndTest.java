package io.meshproxy.tls.authz;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RequestAuthentication and AuthorizationPolicy on a real listener: the JDK HttpClient sends requests with
 * nimbus-signed tokens through {@code MeshProxy.builder().filter(jwt).filter(authz)} to a TestUpstream.
 */
class JwtAuthorizationEndToEndTest {
    static final String ISSUER = "https://issuer.example";
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    static RSAKey rsa;
    static ECKey ec;
    static RSAKey stranger;
    static HttpClient http;

    @BeforeAll
    static void keys() throws Exception {
        rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        stranger = new RSAKeyGenerator(2048).keyID("rsa-1").generate(); // same kid, different key
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder().issuer(ISSUER).subject("alice").audience("api")
                .expirationTime(Date.from(NOW.plusSeconds(600))).claim("azp", "spa").claim("groups", List.of("admins"));
    }

    static String sign(RSAKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    static String sign(ECKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    static HttpResponse<String> get(MeshProxy proxy, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + path));
        if (token != null) {
            b.header("authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static MeshProxy proxy(TestUpstream app, HttpFilterPair filters) {
        return MeshProxy.builder().filter(filters.jwt).filter(filters.authz)
                .config(Configs.simple(UpstreamProtocol.HTTP1, app)).build().start();
    }

    record HttpFilterPair(JwtAuthenticationFilter jwt, AuthorizationFilter authz) {}

    static HttpFilterPair filters(JwksSource jwks, AuthorizationPolicy... policies) {
        return new HttpFilterPair(
                new JwtAuthenticationFilter(List.of(JwtRule.of(ISSUER, jwks, "api", "web")), CLOCK, Duration.ofSeconds(60)),
                new AuthorizationFilter(List.of(policies)));
    }

    static String jwks(com.nimbusds.jose.jwk.JWK... keys) {
        return new JWKSet(List.of(keys)).toPublicJWKSet().toString();
    }

    @Test
    void requestAuthenticationAloneVerifiesTokensButDoesNotRequireOne() throws Exception {
        HttpFilterPair f = filters(JwksSource.inline(jwks(rsa, ec)));
        try (TestUpstream app = TestUpstream.start("app"); MeshProxy proxy = proxy(app, f)) {
            HttpResponse<String> ok = get(proxy, "/headers", sign(rsa, claims().build()));
            assertEquals(200, ok.statusCode());
            assertFalse(ok.body().toLowerCase().contains("authorization:"), "the token is not forwarded: " + ok.body());
            assertEquals(200, get(proxy, "/", sign(ec, claims().build())).statusCode(), "EC keys too");
            assertEquals(200, get(proxy, "/?access_token=" + sign(rsa, claims().build()), null).statusCode());
            assertEquals(200, get(proxy, "/", null).statusCode(), "no token: allowed, without an identity");

            assertRejected(get(proxy, "/", sign(rsa, claims().expirationTime(Date.from(NOW.minusSeconds(61))).build())),
                    JwtAuthenticationFilter.EXPIRED);
            assertEquals(200, get(proxy, "/", sign(rsa, claims().expirationTime(Date.from(NOW.minusSeconds(30))).build()))
                    .statusCode(), "within the clock skew");
            assertRejected(get(proxy, "/", sign(rsa, claims().notBeforeTime(Date.from(NOW.plusSeconds(120))).build())),
                    JwtAuthenticationFilter.NOT_YET_VALID);
            assertRejected(get(proxy, "/", sign(rsa, claims().audience("other").build())), JwtAuthenticationFilter.AUDIENCE);
            assertRejected(get(proxy, "/", sign(rsa, claims().issuer("https://evil.example").build())),
                    JwtAuthenticationFilter.UNKNOWN_ISSUER);
            assertRejected(get(proxy, "/", sign(stranger, claims().build())), JwtAuthenticationFilter.VERIFICATION_FAILS);
            RSAKey unknown = new RSAKeyGenerator(2048).keyID("rsa-9").generate();
            assertRejected(get(proxy, "/", sign(unknown, claims().build())), JwtAuthenticationFilter.NO_KEY);
            assertRejected(get(proxy, "/", "not.a-token"), JwtAuthenticationFilter.BAD_FORMAT);
            assertEquals(7, f.jwt.denied.sum());
            assertEquals(5, f.jwt.allowed.sum());
            assertEquals(5, app.requestsReceived(), "nothing rejected reached the application");
        }
    }

    static void assertRejected(HttpResponse<String> r, String reason) {
        assertEquals(401, r.statusCode(), reason);
        assertEquals(reason, r.body());
        assertTrue(r.headers().firstValue("www-authenticate").orElse("").startsWith("Bearer"));
    }

    @Test
    void aPolicyRequiringARequestPrincipalDeniesTheTokenlessAndMatchesClaims() throws Exception {
        HttpFilterPair f = filters(JwksSource.inline(jwks(rsa)),
                AuthorizationPolicy.allow("require-jwt", "production",
                        Rule.from(Source.builder().requestPrincipals(ISSUER + "/*").build())
                                .withWhen(Condition.of("request.auth.claims[groups]", "admins"),
                                        Condition.of("request.auth.presenter", "spa"))));
        try (TestUpstream app = TestUpstream.start("app"); MeshProxy proxy = proxy(app, f)) {
            assertEquals(200, get(proxy, "/", sign(rsa, claims().build())).statusCode());
            HttpResponse<String> none = get(proxy, "/", null);
            assertEquals(403, none.statusCode());
            assertEquals("RBAC: access denied", none.body());
            assertEquals(403, get(proxy, "/", sign(rsa, claims().claim("groups", List.of("dev")).build())).statusCode());
            assertEquals(401, get(proxy, "/", sign(rsa, claims().audience("x").build())).statusCode(),
                    "an invalid token fails authentication before authorization");
            assertEquals(2, f.authz.denied.sum());
            assertEquals(1, f.authz.allowed.sum());
            assertEquals(1, app.requestsReceived());
        }
    }

    @Test
    void theDeniedRequestsBodyIsDiscardedAndNothingGoesUpstream() throws Exception {
        HttpFilterPair f = filters(JwksSource.inline(jwks(rsa)), AuthorizationPolicy.denyAll("deny-all", "production"));
        try (TestUpstream app = TestUpstream.start("app"); MeshProxy proxy = proxy(app, f)) {
            byte[] body = new byte[256 * 1024];
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/echo"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, r.statusCode());
            assertEquals(AuthorizationFilter.DENIED_BODY, r.body());
            assertEquals(403, get(proxy, "/", sign(rsa, claims().build())).statusCode(), "deny-all denies tokens too");
            assertEquals(0, app.connectionsAccepted());
        }
    }

    @Test
    void remoteJwksIsFetchedOverHttpAndKeyRotationIsPickedUpAfterRefresh() throws Exception {
        AtomicReference<String> served = new AtomicReference<>(jwks(rsa));
        AtomicInteger fetches = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/jwks", ex -> {
            fetches.incrementAndGet();
            byte[] b = served.get().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("content-type", "application/json");
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks");
        RSAKey rotated = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
        try (JwksSource jwks = JwksSource.remote(uri, Duration.ofMillis(200));
             TestUpstream app = TestUpstream.start("app");
             MeshProxy proxy = proxy(app, filters(jwks))) {
            assertEquals(200, get(proxy, "/", sign(rsa, claims().build())).statusCode(),
                    "the first request waits for the keys without blocking the event loop");
            assertRejected(get(proxy, "/", sign(rotated, claims().build())), JwtAuthenticationFilter.NO_KEY);
            served.set(jwks(rotated));
            int before = fetches.get();
            await().atMost(Duration.ofSeconds(10)).until(() -> fetches.get() > before + 1);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> get(proxy, "/", sign(rotated, claims().build())).statusCode() == 200);
            assertRejected(get(proxy, "/", sign(rsa, claims().build())), JwtAuthenticationFilter.NO_KEY);
            assertTrue(jwks.fetchSuccess.sum() >= 2);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aRemoteJwksThatCannotBeFetchedRejectsTokensWith401() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/jwks", ex -> {
            ex.sendResponseHeaders(500, -1);
            ex.close();
        });
        server.start();
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks");
        try (JwksSource jwks = JwksSource.remote(uri, Duration.ofMinutes(20));
             TestUpstream app = TestUpstream.start("app");
             MeshProxy proxy = proxy(app, filters(jwks))) {
            assertRejected(get(proxy, "/", sign(rsa, claims().build())), JwtAuthenticationFilter.JWKS_FETCH_FAILED);
            assertEquals(200, get(proxy, "/", null).statusCode(), "a request without a token needs no keys");
            assertTrue(jwks.fetchFailed.sum() >= 1);
        } finally {
            server.stop(0);
        }
    }
}
