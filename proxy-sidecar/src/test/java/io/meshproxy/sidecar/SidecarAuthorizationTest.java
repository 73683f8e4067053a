package io.meshproxy.sidecar;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * AuthorizationPolicies from YAML enforced on a sidecar's INBOUND listener, over real mutual TLS between sidecars:
 * the reference documents' deny-all plus allow-frontend policies verbatim, Istio's task examples, a reload that
 * changes the policies without a restart, and the counters at the admin API's {@code /stats}.
 */
class SidecarAuthorizationTest {
    @TempDir
    Path dir;

    /** The reference document's policies (003), verbatim. */
    static final String REFERENCE = """
            apiVersion: security.istio.io/v1beta1
            kind: AuthorizationPolicy
            metadata:
              name: deny-all
              namespace: production
            spec: {}  # Empty spec denies all requests
            ---
            apiVersion: security.istio.io/v1beta1
            kind: AuthorizationPolicy
            metadata:
              name: allow-frontend-to-user-service
              namespace: production
            spec:
              selector:
                matchLabels:
                  app: user-service
              action: ALLOW
              rules:
              - from:
                - source:
                    principals: ["cluster.local/ns/production/sa/frontend-service"]
                to:
                - operation:
                    methods: ["GET", "POST"]
                    paths: ["/api/users/*"]
            """;

    Path certs() {
        StringWriter out = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out));
        assertEquals(0, cmd.execute("certs", "--out", dir.resolve("certs").toString(), "--workload",
                "production/user-service", "--workload", "production/frontend-service", "--workload",
                "staging/other"), out.toString());
        return dir.resolve("certs");
    }

    String identity(String workload) {
        Path c = dir.resolve("certs");
        return """
                  identity:
                    certificateChain: %s
                    privateKey: %s
                    trustBundle: %s
                """.formatted(c.resolve(workload + "/cert-chain.pem"), c.resolve(workload + "/key.pem"),
                c.resolve("root-cert.pem"));
    }

    /** The user-service sidecar: STRICT mTLS inbound to {@code app}, its policies in a file of their own. */
    Sidecar server(TestUpstream app, String policies) throws Exception {
        Path server = Files.createDirectories(dir.resolve("server"));
        Files.writeString(server.resolve("proxy.yaml"), """
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: user-service, namespace: production}
                spec:
                  admin: {address: 127.0.0.1, port: 0}
                  listeners:
                  - {name: inbound, address: 127.0.0.1, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:%d"}
                  workload: {name: user-service, app: user-service, serviceAccount: user-service}
                """.formatted(app.port()) + identity("production-user-service") + """
                ---
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: default, namespace: istio-system}
                spec:
                  mtls: {mode: STRICT}
                """);
        Files.writeString(server.resolve("policies.yaml"), policies);
        return Sidecar.start(List.of(server), 1);
    }

    /** A caller's sidecar: user-service:9080 is the server sidecar's inbound port, ISTIO_MUTUAL. */
    Sidecar client(String workload, String namespace, int inbound) throws Exception {
        Path client = Files.createDirectories(dir.resolve(workload));
        Files.writeString(client.resolve("proxy.yaml"), """
                apiVersion: meshproxy.io/v1alpha1
                kind: Proxy
                metadata: {name: %s, namespace: %s}
                spec:
                  listeners:
                  - {name: outbound, address: 127.0.0.1, port: 0, direction: OUTBOUND}
                """.formatted(workload, namespace) + identity(namespace + "-" + workload) + """
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: user-service}
                spec:
                  hosts: [user-service.production.svc.cluster.local]
                  ports: [{number: 9080, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints:
                  - {address: 127.0.0.1, ports: {http: %d}}
                  subjectAltNames: ["spiffe://cluster.local/ns/production/sa/user-service"]
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: user-service}
                spec:
                  host: user-service.production.svc.cluster.local
                  trafficPolicy:
                    tls: {mode: ISTIO_MUTUAL}
                """.formatted(inbound));
        return Sidecar.start(List.of(client), 1);
    }

    static RawHttp.Response call(Sidecar caller, String method, String path, String... headers) throws Exception {
        try (RawHttp c = new RawHttp(caller.mesh().listenerPort("outbound"))) {
            StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: user-service.production.svc.cluster.local:9080\r\n");
            for (String h : headers) {
                req.append(h).append("\r\n");
            }
            if (!method.equals("GET") && !method.equals("DELETE")) {
                req.append("content-length: 0\r\n");
            }
            return c.send(req.append("\r\n").toString()).read();
        }
    }

    static String stats(Sidecar s) throws Exception {
        try (RawHttp admin = new RawHttp(s.mesh().adminPort())) {
            return admin.send("GET /stats HTTP/1.1\r\nHost: admin\r\n\r\n").read().text();
        }
    }

    static void assertDenied(RawHttp.Response r) {
        assertEquals(403, r.status(), r.text());
        assertEquals("RBAC: access denied", r.text());
    }

    @Test
    void theReferencePoliciesOverMutualTlsBetweenTwoSidecarsThenAReloadThatAllowsAnotherCaller() throws Exception {
        certs();
        try (TestUpstream app = TestUpstream.start("user-service-app");
             Sidecar server = server(app, REFERENCE);
             Sidecar frontend = client("frontend-service", "production", server.mesh().listenerPort("inbound"));
             Sidecar other = client("other", "staging", server.mesh().listenerPort("inbound"))) {
            RawHttp.Response ok = call(frontend, "GET", "/api/users/1");
            assertEquals(200, ok.status(), ok.text());
            assertEquals("user-service-app", ok.headers().get("x-upstream"));
            assertEquals(200, call(frontend, "POST", "/api/users/1").status());
            assertDenied(call(frontend, "GET", "/api/orders"));
            assertDenied(call(frontend, "DELETE", "/api/users/1"));
            assertDenied(call(other, "GET", "/api/users/1"));
            assertEquals(2, app.requestsReceived(), "nothing denied reaches the application");
            String stats = stats(server);
            assertTrue(stats.contains("meshproxy_rbac_allowed_total: 2\n"), stats);
            assertTrue(stats.contains("meshproxy_rbac_denied_total: 3\n"), stats);

            // A reload that lets the staging caller in as well takes effect without a restart.
            Files.writeString(dir.resolve("server/policies.yaml"), REFERENCE.replace(
                    "principals: [\"cluster.local/ns/production/sa/frontend-service\"]",
                    "principals: [\"cluster.local/ns/production/sa/frontend-service\","
                            + " \"cluster.local/ns/staging/sa/other\"]"));
            await().atMost(Duration.ofSeconds(30)).until(() -> call(other, "GET", "/api/users/1").status() == 200);
            assertDenied(call(other, "DELETE", "/api/users/1"));
            assertTrue(stats(server).contains("meshproxy_rbac_denied_total: "), "the counters survive the reload");
            assertFalse(stats(server).contains("meshproxy_rbac_denied_total: 0\n"));
        }
    }

    /** Istio's authorization tasks: ALLOW by namespace, DENY a method unless a header, DENY by ipBlocks. */
    @Test
    void istioTaskExamplesOverMutualTls() throws Exception {
        certs();
        String policies = """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-production, namespace: production}
                spec:
                  action: ALLOW
                  rules:
                  - from:
                    - source:
                        namespaces: ["production"]
                ---
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-get-without-token, namespace: production}
                spec:
                  selector: {matchLabels: {app: user-service}}
                  action: DENY
                  rules:
                  - to:
                    - operation:
                        methods: ["GET"]
                    when:
                    - key: request.headers[x-token]
                      notValues: ["admin"]
                ---
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-loopback-admin, namespace: istio-system}
                spec:
                  action: DENY
                  rules:
                  - from:
                    - source:
                        ipBlocks: ["127.0.0.0/8"]
                        notPrincipals: ["cluster.local/ns/production/sa/admin"]
                    to:
                    - operation:
                        paths: ["/admin/*"]
                """;
        try (TestUpstream app = TestUpstream.start("user-service-app");
             Sidecar server = server(app, policies);
             Sidecar frontend = client("frontend-service", "production", server.mesh().listenerPort("inbound"));
             Sidecar other = client("other", "staging", server.mesh().listenerPort("inbound"))) {
            assertEquals(200, call(frontend, "GET", "/api/users/1", "x-token: admin").status());
            assertEquals(200, call(frontend, "POST", "/api/users/1").status());
            assertDenied(call(frontend, "GET", "/api/users/1"));
            assertDenied(call(frontend, "GET", "/api/users/1", "x-token: guest"));
            assertDenied(call(frontend, "POST", "/admin/reset"));
            assertDenied(call(other, "POST", "/api/users/1"));
            assertEquals(2, app.requestsReceived());
        }
    }
}
