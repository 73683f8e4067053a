package io.meshproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each rejected peer: the handshake fails on the verifying side, the server's echo handler never receives a byte,
 * and the client gets no application data back. (In TLS 1.3 the client finishes its handshake before the server
 * has judged the client certificate; the server's alert then closes the connection, so the client-side handshake
 * may report success while no data ever flows.)
 */
class RejectionTest {
    @TempDir Path dir;
    final TlsLoopback loop = new TlsLoopback();
    final DevCa ca = DevCa.create(Identities.TD);
    ServerTls server;
    TlsLoopback.ServerSide side;

    @BeforeEach
    void start() throws Exception {
        server = TlsContexts.forServer(Identities.write(dir, ca.workload("default", "backend").issue()),
                TlsOptions.defaults());
        side = loop.server(server);
    }

    @AfterEach
    void close() {
        loop.close();
    }

    private void assertServerRejected(TlsLoopback.Outcome out) {
        assertNull(out.echoed(), "no application data may come back");
        await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().snapshot().failed() == 1);
        assertEquals(0, side.applicationBytes.get());
        assertTrue(side.peers.isEmpty());
        assertEquals(0, server.stats().snapshot().succeeded());
    }

    @ParameterizedTest
    @ValueSource(strings = {TlsOptions.TLS_1_3, TlsOptions.TLS_1_2})
    void noClientCertificate(String protocol) throws Exception {
        SslContext bare = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).protocols(protocol)
                .trustManager(ca.root()).endpointIdentificationAlgorithm(null).build();
        TlsLoopback.Outcome out = loop.connect(ch -> ch.pipeline().addLast(bare.newHandler(ch.alloc())), side.port());
        assertServerRejected(out);
    }

    @Test
    void clientCertificateFromAnotherCa() throws Exception {
        DevCa other = DevCa.create(Identities.TD);
        // The client trusts both roots, so it accepts the server; the server trusts only its own.
        WorkloadIdentity client = Identities.writeWithBundle(dir, other.workload("default", "frontend").issue(),
                List.of(other.root(), ca.root()));
        TlsLoopback.Outcome out = loop.connect(TlsContexts.forClient(client, TlsOptions.defaults()), side.port());
        assertServerRejected(out);
    }

    @Test
    void expiredClientCertificate() throws Exception {
        Instant now = Instant.now();
        DevCa.Issued expired = ca.workload("default", "frontend")
                .validity(now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1))).issue();
        Path w = expired.writeTo(dir);
        // Loaded as of two days ago, when it was still valid; presented today.
        WorkloadIdentity client = WorkloadIdentity.load(w.resolve("cert-chain.pem"), w.resolve("key.pem"),
                w.resolve("root-cert.pem"), Identities.TD, Clock.fixed(now.minus(Duration.ofDays(2)), ZoneOffset.UTC));
        TlsLoopback.Outcome out = loop.connect(TlsContexts.forClient(client, TlsOptions.defaults()), side.port());
        assertServerRejected(out);
    }

    @Test
    void clientCertificateFromAnotherTrustDomain() throws Exception {
        DevCa.Issued foreign = ca.workload(SpiffeId.parse("spiffe://other.domain/ns/default/sa/frontend")).issue();
        WorkloadIdentity client = Identities.write(dir, foreign, "other.domain");
        TlsLoopback.Outcome out = loop.connect(TlsContexts.forClient(client, TlsOptions.defaults()), side.port());
        assertServerRejected(out);
    }

    @Test
    void clientCertificateWithoutSpiffeSan() throws Exception {
        DevCa.Issued noSan = ca.workload("default", "frontend").withoutSpiffeSan().issue();
        Path w = noSan.writeTo(dir);
        SslContext raw = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL)
                .keyManager(noSan.privateKey(), noSan.certificate())
                .trustManager(ca.root()).endpointIdentificationAlgorithm(null).build();
        TlsLoopback.Outcome out = loop.connect(ch -> ch.pipeline().addLast(raw.newHandler(ch.alloc())), side.port());
        assertServerRejected(out);
        assertTrue(w.resolve("cert-chain.pem").toFile().exists());
    }

    @Test
    void serverNotInSubjectAltNamesIsRejectedByTheClient() throws Exception {
        WorkloadIdentity clientId = Identities.write(dir, ca.workload("default", "frontend").issue());
        ClientTls client = TlsContexts.forClient(clientId, TlsOptions.builder()
                .subjectAltNames("spiffe://cluster.local/ns/default/sa/payments").build());

        TlsLoopback.Outcome out = loop.connect(client, side.port());

        assertFalse(out.handshakeOk());
        assertTrue(out.handshakeCause().getMessage().contains("subjectAltNames")
                || String.valueOf(out.handshakeCause().getCause()).contains("subjectAltNames"),
                () -> "cause: " + out.handshakeCause());
        assertNull(out.echoed());
        assertEquals(1, client.stats().snapshot().failed());
        assertEquals(0, side.applicationBytes.get());
    }
}
