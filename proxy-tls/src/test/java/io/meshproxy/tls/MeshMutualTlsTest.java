package io.meshproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ConnectionPoolConfig;
import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.RequestLogs;
import io.meshproxy.core.testing.TestUpstream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two meshproxies, as two sidecars, talking mTLS STRICT with ISTIO_MUTUAL on BoringSSL: the server side sees the
 * client's SPIFFE principal, ALPN negotiates the cluster's protocol, a client of another CA is refused, and
 * reconnects resume their sessions on both sides.
 */
class MeshMutualTlsTest {
    @TempDir
    Path dir;

    static MeshProxy serverSide(MeshTransportSecurity security, TestUpstream app, RequestLogs logs) {
        return MeshProxy.builder().transportSecurity(security).requestLogListener(logs)
                .filter((ctx, req, next) -> next.serve(ctx, req).thenApply(r -> {
                    r.headers().set("x-peer-principal", String.valueOf(ctx.peerPrincipal()));
                    return r;
                }))
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("inbound").port(0).tlsMode(DownstreamTlsMode.STRICT)
                                .routes(Configs.allTo("app")).build())
                        .cluster(Configs.cluster("app", UpstreamProtocol.HTTP1, app))
                        .build())
                .build().start();
    }

    static MeshProxy clientSide(MeshTransportSecurity security, int port, UpstreamProtocol protocol, int perConnection) {
        return MeshProxy.builder().transportSecurity(security)
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("outbound").port(0).routes(Configs.allTo("b")).build())
                        .cluster(ClusterConfig.builder().name("b").protocol(protocol).endpoint("127.0.0.1", port)
                                .connectionPool(new ConnectionPoolConfig(perConnection, 0, null))
                                .tls(UpstreamTls.ISTIO_MUTUAL).build())
                        .build())
                .build().start();
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void strictIstioMutualCarriesTheClientsSpiffePrincipal(UpstreamProtocol protocol) throws Exception {
        DevCa ca = DevCa.create(Identities.TD);
        MeshTransportSecurity server = new MeshTransportSecurity(
                Identities.write(dir.resolve("s"), ca.workload("production", "reviews").issue()), TlsOptions.defaults());
        MeshTransportSecurity client = new MeshTransportSecurity(
                Identities.write(dir.resolve("c"), ca.workload("production", "frontend-service").issue()),
                TlsOptions.defaults());
        RequestLogs logs = new RequestLogs();
        try (TestUpstream app = TestUpstream.start("app");
             MeshProxy b = serverSide(server, app, logs);
             MeshProxy a = clientSide(client, b.listenerPort("inbound"), protocol, 0);
             RawHttp c = new RawHttp(a.listenerPort("outbound"))) {
            RawHttp.Response r = c.send("GET /api/users/1 HTTP/1.1\r\nHost: reviews\r\n\r\n").read();
            assertEquals(200, r.status());
            assertEquals("cluster.local/ns/production/sa/frontend-service", r.headers().get("x-peer-principal"));
            assertEquals(protocol == UpstreamProtocol.HTTP2 ? "HTTP/2" : "HTTP/1.1",
                    logs.awaitPath("/api/users/1").protocol(), "ALPN negotiated the cluster's protocol");
            assertEquals(TlsProvider.OPENSSL, TlsContexts.availableProvider(), "BoringSSL through netty-tcnative");
        }
    }

    @Test
    void aClientOfAnotherCaIsRefusedAndTheRequestFailsUF() throws Exception {
        DevCa ca = DevCa.create(Identities.TD);
        DevCa other = DevCa.create(Identities.TD);
        MeshTransportSecurity server = new MeshTransportSecurity(
                Identities.write(dir.resolve("s"), ca.workload("production", "reviews").issue()), TlsOptions.defaults());
        MeshTransportSecurity stranger = new MeshTransportSecurity(
                Identities.write(dir.resolve("x"), other.workload("production", "frontend-service").issue()),
                TlsOptions.defaults());
        try (TestUpstream app = TestUpstream.start("app");
             MeshProxy b = serverSide(server, app, new RequestLogs());
             MeshProxy a = clientSide(stranger, b.listenerPort("inbound"), UpstreamProtocol.HTTP1, 0);
             RawHttp c = new RawHttp(a.listenerPort("outbound"))) {
            assertEquals(503, c.send("GET /x HTTP/1.1\r\nHost: reviews\r\n\r\n").read().status());
            assertEquals(0, app.requestsReceived(), "nothing from an untrusted peer reaches the application");
        }
    }

    @Test
    void reconnectsResumeTheirSessionsOnBothSides() throws Exception {
        DevCa ca = DevCa.create(Identities.TD);
        MeshTransportSecurity server = new MeshTransportSecurity(
                Identities.write(dir.resolve("s"), ca.workload("production", "reviews").issue()), TlsOptions.defaults());
        MeshTransportSecurity client = new MeshTransportSecurity(
                Identities.write(dir.resolve("c"), ca.workload("production", "frontend-service").issue()),
                TlsOptions.defaults());
        int n = 300;
        try (TestUpstream app = TestUpstream.start("app");
             MeshProxy b = serverSide(server, app, new RequestLogs());
             // one request per upstream connection: every request is a new TLS connection
             MeshProxy a = clientSide(client, b.listenerPort("inbound"), UpstreamProtocol.HTTP1, 1);
             RawHttp c = new RawHttp(a.listenerPort("outbound"))) {
            for (int i = 0; i < n; i++) {
                assertEquals(200, c.send("GET /x HTTP/1.1\r\nHost: reviews\r\n\r\n").read().status());
            }
            HandshakeStats.Snapshot s = server.serverStats().snapshot();
            HandshakeStats.Snapshot cl = client.clientStats().snapshot();
            assertTrue(s.succeeded() >= n, "a handshake per request: " + s);
            assertTrue(s.resumed() >= 0.99 * (s.succeeded() - 1), "server side resumed: " + s);
            assertTrue(cl.resumed() >= 0.99 * (cl.succeeded() - 1), "client side resumed: " + cl);
        }
    }
}
