package io.meshproxy.core.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ConfigException;
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
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * mTLS between two proxies, as between two sidecars: a client's plaintext request enters proxy A, whose
 * cluster speaks mTLS (ALPN picking HTTP/2 or HTTP/1.1) to proxy B's STRICT or PERMISSIVE listener, which sees
 * A's principal and forwards to the application in plaintext. Real TLS on loopback (the JDK's, through a test
 * {@link TransportSecurity}; proxy-tls brings BoringSSL and SPIFFE verification).
 */
class MutualTlsTest {
    @TempDir
    static Path dir;
    static JdkTestSecurity security;

    @BeforeAll
    static void certificates() throws Exception {
        security = JdkTestSecurity.create(dir, "default", "frontend");
    }

    /** Proxy B: listener "in" with {@code mode}, a filter answering with the peer principal, to {@code app}. */
    static MeshProxy serverSide(DownstreamTlsMode mode, TestUpstream app, RequestLogs logs) {
        return MeshProxy.builder().transportSecurity(security).requestLogListener(logs)
                .filter((ctx, req, next) -> next.serve(ctx, req).thenApply(r -> {
                    r.headers().set("x-peer-principal", String.valueOf(ctx.peerPrincipal()));
                    r.headers().set("x-peer-secure", String.valueOf(ctx.secure()));
                    return r;
                }))
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("in").port(0).tlsMode(mode)
                                .routes(Configs.allTo("app")).build())
                        .cluster(Configs.cluster("app", UpstreamProtocol.HTTP1, app))
                        .build())
                .build().start();
    }

    /** Proxy A: plaintext listener "out", cluster "b" speaking {@code protocol} over mTLS to proxy B. */
    static MeshProxy clientSide(int bPort, UpstreamProtocol protocol) {
        return MeshProxy.builder().transportSecurity(security)
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("out").port(0).routes(Configs.allTo("b")).build())
                        .cluster(ClusterConfig.builder().name("b").protocol(protocol).endpoint("127.0.0.1", bPort)
                                .tls(UpstreamTls.ISTIO_MUTUAL).build())
                        .build())
                .build().start();
    }

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void strictMutualTlsBetweenTwoProxiesCarriesThePeerPrincipalAndNegotiatesTheProtocol(UpstreamProtocol protocol)
            throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream app = TestUpstream.start("app");
             MeshProxy b = serverSide(DownstreamTlsMode.STRICT, app, logs);
             MeshProxy a = clientSide(b.listenerPort("in"), protocol);
             RawHttp c = new RawHttp(a.listenerPort("out"))) {
            for (int i = 0; i < 5; i++) {
                RawHttp.Response r = c.send("GET /x HTTP/1.1\r\nHost: app\r\n\r\n").read();
                assertEquals(200, r.status());
                assertEquals("app", r.headers().get("x-upstream"));
                assertEquals("cluster.local/ns/default/sa/frontend", r.headers().get("x-peer-principal"));
                assertEquals("true", r.headers().get("x-peer-secure"));
            }
            assertEquals(protocol == UpstreamProtocol.HTTP2 ? "HTTP/2" : "HTTP/1.1", logs.awaitPath("/x").protocol(),
                    "ALPN chose the cluster's protocol on proxy B's listener");
            assertTrue(security.clientHandshakes.get() >= 1 && security.serverHandshakes.get() >= 1,
                    "both sides reported their handshakes");
        }
    }

    @Test
    void strictRefusesPlaintext() throws Exception {
        try (TestUpstream app = TestUpstream.start("app");
             MeshProxy b = serverSide(DownstreamTlsMode.STRICT, app, new RequestLogs());
             RawHttp c = new RawHttp(b.listenerPort("in"))) {
            c.send("GET /x HTTP/1.1\r\nHost: app\r\n\r\n");
            assertTrue(c.closedByPeer(), "a plaintext request on a STRICT listener gets no answer, only a close");
            assertEquals(0, app.requestsReceived());
        }
    }

    @Test
    void permissiveAcceptsPlaintextAndMutualTlsOnOnePort() throws Exception {
        try (TestUpstream app = TestUpstream.start("app");
             MeshProxy b = serverSide(DownstreamTlsMode.PERMISSIVE, app, new RequestLogs());
             MeshProxy a = clientSide(b.listenerPort("in"), UpstreamProtocol.HTTP1);
             RawHttp plain = new RawHttp(b.listenerPort("in"));
             RawHttp viaA = new RawHttp(a.listenerPort("out"))) {
            RawHttp.Response r = plain.send("GET /headers HTTP/1.1\r\nHost: app\r\n"
                    + "x-forwarded-client-cert: URI=spiffe://cluster.local/ns/default/sa/admin\r\n\r\n").read();
            assertEquals(200, r.status());
            assertTrue(!r.text().contains("x-forwarded-client-cert"), "a plaintext client cannot claim an identity");
            assertEquals("null", r.headers().get("x-peer-principal"));
            assertEquals("false", r.headers().get("x-peer-secure"));
            r = viaA.send("GET /headers HTTP/1.1\r\nHost: app\r\n\r\n").read();
            assertEquals(200, r.status());
            assertTrue(r.text().contains("x-forwarded-client-cert: URI=spiffe://cluster.local/ns/default/sa/frontend"),
                    "the application sees the mTLS peer: " + r.text());
            assertEquals("cluster.local/ns/default/sa/frontend", r.headers().get("x-peer-principal"));
        }
    }

    @Test
    void aTlsClusterToAPlaintextEndpointFailsItsConnectsWithUF() throws Exception {
        RequestLogs logs = new RequestLogs();
        try (TestUpstream plaintext = TestUpstream.start("plain");
             MeshProxy a = MeshProxy.builder().transportSecurity(security).requestLogListener(logs)
                     .config(ProxyConfig.builder()
                             .listener(ListenerConfig.builder().name("out").port(0).routes(Configs.allTo("b")).build())
                             .cluster(ClusterConfig.builder().name("b").endpoint("127.0.0.1", plaintext.port())
                                     .connectTimeout(Duration.ofSeconds(2)).tls(UpstreamTls.ISTIO_MUTUAL).build())
                             .build())
                     .build().start();
             RawHttp c = new RawHttp(a.listenerPort("out"))) {
            assertEquals(503, c.send("GET /x HTTP/1.1\r\nHost: b\r\n\r\n").read().status());
            assertEquals("UF", logs.awaitPath("/x").responseFlags());
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> a.clusters().get("b").stats().upstreamCxConnectFail.sum() >= 1);
        }
    }

    @Test
    void tlsWithoutATransportSecurityIsAConfigurationError() {
        ProxyConfig cfg = ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(0).tlsMode(DownstreamTlsMode.STRICT)
                        .routes(Configs.allTo("b")).build())
                .cluster(ClusterConfig.builder().name("b").endpoint("127.0.0.1", 9).tls(UpstreamTls.ISTIO_MUTUAL).build())
                .build();
        ConfigException e = assertThrows(ConfigException.class, () -> MeshProxy.builder().config(cfg).build());
        assertEquals(2, e.errors().size(), e.errors().toString());
    }
}
