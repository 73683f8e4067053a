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
import org.junit.jupiter.params.provider.ValueSource;

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

    static MeshProxy clientSide(io.meshproxy.core.tls.TransportSecurity security, int port, UpstreamProtocol protocol,
            int perConnection) {
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

    /**
     * Issue 5's resumption acceptance through two meshproxies: 1,000 requests, each on a new upstream TLS
     * connection (one request per connection), resume at least 99% of their handshakes on the outbound (client)
     * side and on the inbound (server) side, for TLS 1.3 and TLS 1.2 alike.
     */
    @ParameterizedTest
    @ValueSource(strings = {TlsOptions.TLS_1_3, TlsOptions.TLS_1_2})
    void reconnectsResumeTheirSessionsOnBothSides(String protocol) throws Exception {
        DevCa ca = DevCa.create(Identities.TD);
        TlsOptions options = TlsOptions.builder().protocols(protocol).build();
        MeshTransportSecurity server = new MeshTransportSecurity(
                Identities.write(dir.resolve("s"), ca.workload("production", "reviews").issue()), options);
        MeshTransportSecurity client = new MeshTransportSecurity(
                Identities.write(dir.resolve("c"), ca.workload("production", "frontend-service").issue()), options);
        int n = 1_000;
        try (TestUpstream app = TestUpstream.start("app");
             MeshProxy b = serverSide(server, app, new RequestLogs());
             // one request per upstream connection: every request is a new TLS connection
             MeshProxy a = clientSide(client, b.listenerPort("inbound"), UpstreamProtocol.HTTP1, 1);
             RawHttp c = new RawHttp(a.listenerPort("outbound"))) {
            for (int i = 0; i < n; i++) {
                RawHttp.Response r = c.send("GET /x HTTP/1.1\r\nHost: reviews\r\n\r\n").read();
                assertEquals(200, r.status(), "request " + i);
                // a resumed session still carries the client's identity to the inbound side
                assertEquals("cluster.local/ns/production/sa/frontend-service", r.headers().get("x-peer-principal"),
                        "request " + i);
            }
            HandshakeStats.Snapshot s = server.serverStats().snapshot();
            HandshakeStats.Snapshot cl = client.clientStats().snapshot();
            System.out.printf("%s through two meshproxies: inbound %s, outbound %s%n", protocol, s, cl);
            assertTrue(s.succeeded() >= n, "a handshake per request: " + s);
            assertEquals(0, s.failed(), "inbound handshake failures: " + s);
            assertEquals(0, cl.failed(), "outbound handshake failures: " + cl);
            // the first handshake is necessarily full; of the rest, at least 99% resume
            assertTrue(s.resumed() >= 0.99 * (s.succeeded() - 1), "server side resumed: " + s);
            assertTrue(cl.resumed() >= 0.99 * (cl.succeeded() - 1), "client side resumed: " + cl);
        }
    }
}
