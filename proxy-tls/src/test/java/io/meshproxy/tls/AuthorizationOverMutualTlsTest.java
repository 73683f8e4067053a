package io.meshproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.tls.authz.AuthorizationFilter;
import io.meshproxy.tls.authz.AuthorizationPolicy;
import io.meshproxy.tls.authz.Operation;
import io.meshproxy.tls.authz.Rule;
import io.meshproxy.tls.authz.Source;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference documents' AuthorizationPolicy over real mTLS (BoringSSL, SPIFFE certificates from DevCa): a
 * namespace-wide deny-all, and an ALLOW for {@code cluster.local/ns/production/sa/frontend-service} to GET and
 * POST {@code /api/users/*} — the principal comes from the client's certificate, not from anything it says.
 */
class AuthorizationOverMutualTlsTest {
    @TempDir
    Path dir;

    static MeshProxy client(MeshTransportSecurity security, int port) {
        return MeshProxy.builder().transportSecurity(security)
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("outbound").port(0).routes(Configs.allTo("b")).build())
                        .cluster(ClusterConfig.builder().name("b").protocol(UpstreamProtocol.HTTP2)
                                .endpoint("127.0.0.1", port).tls(UpstreamTls.ISTIO_MUTUAL).build())
                        .build())
                .build().start();
    }

    @Test
    void onlyTheFrontendServiceMayGetAndPostUsers() throws Exception {
        DevCa ca = DevCa.create(Identities.TD);
        MeshTransportSecurity server = new MeshTransportSecurity(
                Identities.write(dir.resolve("s"), ca.workload("production", "user-service").issue()),
                TlsOptions.defaults());
        MeshTransportSecurity frontend = new MeshTransportSecurity(
                Identities.write(dir.resolve("f"), ca.workload("production", "frontend-service").issue()),
                TlsOptions.defaults());
        MeshTransportSecurity other = new MeshTransportSecurity(
                Identities.write(dir.resolve("o"), ca.workload("production", "batch-job").issue()),
                TlsOptions.defaults());
        AuthorizationFilter authz = new AuthorizationFilter(List.of(
                AuthorizationPolicy.denyAll("deny-all", "production"),
                AuthorizationPolicy.allow("allow-frontend", "production", new Rule(
                        List.of(Source.builder().principals("cluster.local/ns/production/sa/frontend-service").build()),
                        List.of(Operation.builder().methods("GET", "POST").paths("/api/users/*").build()),
                        List.of()))));
        try (TestUpstream app = TestUpstream.start("user-service");
             MeshProxy b = MeshProxy.builder().transportSecurity(server).filter(authz)
                     .config(ProxyConfig.builder()
                             .listener(ListenerConfig.builder().name("inbound").port(0)
                                     .tlsMode(DownstreamTlsMode.STRICT).routes(Configs.allTo("app")).build())
                             .cluster(Configs.cluster("app", UpstreamProtocol.HTTP1, app))
                             .build())
                     .build().start();
             MeshProxy fa = client(frontend, b.listenerPort("inbound"));
             MeshProxy oa = client(other, b.listenerPort("inbound"));
             RawHttp f = new RawHttp(fa.listenerPort("outbound"));
             RawHttp o = new RawHttp(oa.listenerPort("outbound"))) {
            assertEquals(200, f.send("GET /api/users/7 HTTP/1.1\r\nHost: users\r\n\r\n").read().status());
            assertEquals(200, f.send("POST /api/users/7 HTTP/1.1\r\nHost: users\r\ncontent-length: 2\r\n\r\n{}")
                    .read().status());
            RawHttp.Response r = f.send("DELETE /api/users/7 HTTP/1.1\r\nHost: users\r\n\r\n").read();
            assertEquals(403, r.status());
            assertEquals("RBAC: access denied", r.text());
            assertEquals(403, f.send("GET /api/orders HTTP/1.1\r\nHost: users\r\n\r\n").read().status());
            assertEquals(403, o.send("GET /api/users/7 HTTP/1.1\r\nHost: users\r\n\r\n").read().status(),
                    "another workload of the same mesh is denied");
            assertEquals(2, app.requestsReceived(), "only the two allowed requests reached the application");
        }
    }
}
