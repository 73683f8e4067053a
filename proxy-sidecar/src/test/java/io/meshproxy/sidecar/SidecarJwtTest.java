package io.meshproxy.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RequestAuthentication and AuthorizationPolicy from YAML on a sidecar's INBOUND listener: tokens of an issuer
 * whose keys are in a file and of one whose keys are served over HTTP (a real server on loopback); a valid token
 * passes and its {@code request.auth.principal} and claims decide in policies; an expired token, a wrong audience,
 * an unknown issuer or key id get 401; no token passes authentication and is denied (403) by a policy requiring
 * {@code requestPrincipals: ["*"]}, as Istio documents.
 */
class SidecarJwtTest {
    @TempDir
    Path dir;

    RSAKey fileKey;
    RSAKey remoteKey;
    HttpServer jwksServer;
    final AtomicInteger jwksFetches = new AtomicInteger();
    String remoteIssuer;

    @BeforeEach
    void keys() throws Exception {
        fileKey = new RSAKeyGenerator(2048).keyID("file-key").generate();
        remoteKey = new RSAKeyGenerator(2048).keyID("remote-key").generate();
        Files.writeString(dir.resolve("jwks.json"), new JWKSet(fileKey.toPublicJWK()).toString());
        byte[] remoteJwks = new JWKSet(remoteKey.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        jwksServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        jwksServer.createContext("/.well-known/jwks.json", exchange -> {
            jwksFetches.incrementAndGet();
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.sendResponseHeaders(200, remoteJwks.length);
            exchange.getResponseBody().write(remoteJwks);
            exchange.close();
        });
        jwksServer.start();
        remoteIssuer = "http://127.0.0.1:" + jwksServer.getAddress().getPort();
    }

    @AfterEach
    void stopServer() {
        jwksServer.stop(0);
    }

    static String token(RSAKey key, String issuer, String subject, String audience, List<String> groups,
            long expiresInSeconds) throws Exception {
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().issuer(issuer).subject(subject).audience(audience)
                .expirationTime(new Date(System.currentTimeMillis() + expiresInSeconds * 1000));
        if (groups != null) {
            claims.claim("groups", groups);
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
                .type(JOSEObjectType.JWT).build(), claims.build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    Sidecar sidecar(TestUpstream app) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), """
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: api, namespace: production}
                spec:
                  admin: {address: 127.0.0.1, port: 0}
                  listeners:
                  - {name: inbound, address: 127.0.0.1, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:%d"}
                  - {name: outbound, address: 127.0.0.1, port: 0, direction: OUTBOUND}
                  workload: {name: api, app: api}
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: backend}
                spec:
                  hosts: [backend]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1, ports: {http: %d}}]
                ---
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: production}
                spec:
                  selector: {matchLabels: {app: api}}
                  jwtRules:
                  - issuer: "https://auth.company.com"
                    jwksUri: file:jwks.json
                    audiences: ["api.company.com"]
                  - issuer: "%s"
                    jwksUri: "%s/.well-known/jwks.json"
                ---
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: require-jwt, namespace: production}
                spec:
                  selector: {matchLabels: {app: api}}
                  action: ALLOW
                  rules:
                  - from:
                    - source:
                        requestPrincipals: ["*"]
                    to:
                    - operation:
                        paths: ["/api/*", "/headers"]
                  - from:
                    - source:
                        requestPrincipals: ["*"]
                    to:
                    - operation:
                        paths: ["/admin/*"]
                    when:
                    - key: request.auth.claims[groups]
                      values: ["admins"]
                ---
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-mallory, namespace: production}
                spec:
                  action: DENY
                  rules:
                  - when:
                    - key: request.auth.principal
                      values: ["https://auth.company.com/mallory"]
                """.formatted(app.port(), app.port(), remoteIssuer, remoteIssuer));
        return Sidecar.start(List.of(dir.resolve("proxy.yaml")), 1);
    }

    static RawHttp.Response get(Sidecar s, String path, String token) throws Exception {
        try (RawHttp c = new RawHttp(s.mesh().listenerPort("inbound"))) {
            return c.send("GET " + path + " HTTP/1.1\r\nHost: api\r\n"
                    + (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n").read();
        }
    }

    @Test
    void tokensAreVerifiedAndTheirPrincipalAndClaimsDecide() throws Exception {
        String issuer = "https://auth.company.com";
        String aud = "api.company.com";
        try (TestUpstream app = TestUpstream.start("api-app"); Sidecar s = sidecar(app)) {
            String alice = token(fileKey, issuer, "alice", aud, List.of("dev"), 300);
            RawHttp.Response ok = get(s, "/api/items", alice);
            assertEquals(200, ok.status(), ok.text());
            assertEquals("api-app", ok.headers().get("x-upstream"));

            RawHttp.Response headers = get(s, "/headers", alice);
            assertEquals(200, headers.status(), headers.text());
            assertTrue(headers.text().contains("x-request-id:"), headers.text());
            assertFalse(headers.text().toLowerCase().contains("authorization:"),
                    "the verified token is not forwarded: " + headers.text());

            assertEquals(403, get(s, "/admin/reset", alice).status(), "groups lacks admins");
            assertEquals(200, get(s, "/admin/reset", token(fileKey, issuer, "root", aud, List.of("admins"), 300))
                    .status());
            RawHttp.Response mallory = get(s, "/api/items", token(fileKey, issuer, "mallory", aud, null, 300));
            assertEquals(403, mallory.status(), "DENY by request.auth.principal");
            assertEquals("RBAC: access denied", mallory.text());

            RawHttp.Response expired = get(s, "/api/items", token(fileKey, issuer, "alice", aud, null, -3600));
            assertEquals(401, expired.status());
            assertEquals("Jwt is expired", expired.text());
            assertEquals(401, get(s, "/api/items", token(fileKey, issuer, "alice", "other-audience", null, 300))
                    .status());
            assertEquals(401, get(s, "/api/items", token(fileKey, "https://evil.example", "alice", aud, null, 300))
                    .status());
            RSAKey unknown = new RSAKeyGenerator(2048).keyID("unknown-kid").generate();
            assertEquals(401, get(s, "/api/items", token(unknown, issuer, "alice", aud, null, 300)).status());

            RawHttp.Response anonymous = get(s, "/api/items", null);
            assertEquals(403, anonymous.status(), "no token passes authentication; the policy requires a principal");
            assertEquals("RBAC: access denied", anonymous.text());

            RawHttp.Response remote = get(s, "/api/items", token(remoteKey, remoteIssuer, "bob", "any", null, 300));
            assertEquals(200, remote.status(), remote.text());
            assertTrue(jwksFetches.get() >= 1);

            try (RawHttp c = new RawHttp(s.mesh().listenerPort("outbound"))) {
                RawHttp.Response out = c.send("GET /api/items HTTP/1.1\r\nHost: backend\r\n\r\n").read();
                assertEquals(200, out.status(), "OUTBOUND requests are not checked: " + out.text());
            }

            assertEquals(5, app.requestsReceived());
            String stats;
            try (RawHttp admin = new RawHttp(s.mesh().adminPort())) {
                stats = admin.send("GET /stats HTTP/1.1\r\nHost: admin\r\n\r\n").read().text();
            }
            assertTrue(stats.contains("meshproxy_jwt_authn_denied_total: 4\n"), stats);
            assertTrue(stats.contains("meshproxy_rbac_denied_total: 3\n"), stats);
            assertTrue(stats.contains("meshproxy_rbac_allowed_total: 4\n"), stats);
        }
    }
}
