package io.meshproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MtlsHandshakeTest {
    @TempDir Path dir;
    final TlsLoopback loop = new TlsLoopback();
    final DevCa ca = DevCa.create(Identities.TD);

    @AfterEach
    void close() {
        loop.close();
    }

    @Test
    void theProviderIsBoringSslOnThisMachine() throws Exception {
        assertEquals(TlsProvider.OPENSSL, TlsContexts.availableProvider());
        WorkloadIdentity id = Identities.write(dir, ca.workload("default", "frontend").issue());
        TlsOptions strict = TlsOptions.builder().requireOpenSsl(true).build();
        assertEquals(TlsProvider.OPENSSL, TlsContexts.forServer(id, strict).provider());
        assertEquals(TlsProvider.OPENSSL, TlsContexts.forClient(id, strict).provider());
        assertEquals(0, TlsContexts.jdkFallbacks());
    }

    @ParameterizedTest
    @EnumSource(DevCa.KeyType.class)
    void bothSidesSeeEachOthersSpiffeIdAndNegotiateH2(DevCa.KeyType keyType) throws Exception {
        WorkloadIdentity serverId = Identities.write(dir, ca.workload("production", "backend").keyType(keyType).issue());
        WorkloadIdentity clientId = Identities.write(dir, ca.workload("production", "frontend-service").keyType(keyType).issue());
        ServerTls server = TlsContexts.forServer(serverId, TlsOptions.defaults());
        ClientTls client = TlsContexts.forClient(clientId, TlsOptions.defaults());
        TlsLoopback.ServerSide side = loop.server(server);

        TlsLoopback.Outcome out = loop.connect(client, side.port());

        assertTrue(out.handshakeOk(), () -> "handshake failed: " + out.handshakeCause());
        assertEquals(TlsLoopback.MESSAGE, out.echoed());
        assertEquals(Optional.of(SpiffeId.parse("spiffe://cluster.local/ns/production/sa/backend")), out.serverId());
        assertEquals(List.of(Optional.of(SpiffeId.parse("spiffe://cluster.local/ns/production/sa/frontend-service"))),
                side.peers);
        assertEquals("cluster.local/ns/production/sa/frontend-service", side.peers.get(0).orElseThrow().principal());
        assertEquals("h2", out.alpn());
        assertEquals(List.of("h2"), side.alpn);
        assertEquals(1, server.stats().snapshot().full());
        assertEquals(1, client.stats().snapshot().full());
    }

    @Test
    void alpnFallsBackToHttp11WhenTheClientOffersOnlyThat() throws Exception {
        WorkloadIdentity serverId = Identities.write(dir, ca.workload("default", "backend").issue());
        WorkloadIdentity clientId = Identities.write(dir, ca.workload("default", "frontend").issue());
        TlsLoopback.ServerSide side = loop.server(TlsContexts.forServer(serverId, TlsOptions.defaults()));
        ClientTls client = TlsContexts.forClient(clientId, TlsOptions.builder().alpn("http/1.1").build());

        TlsLoopback.Outcome out = loop.connect(client, side.port());

        assertTrue(out.handshakeOk());
        assertEquals("http/1.1", out.alpn());
    }

    @Test
    void subjectAltNamesThatMatchAreAccepted() throws Exception {
        WorkloadIdentity serverId = Identities.write(dir, ca.workload("default", "backend").issue());
        WorkloadIdentity clientId = Identities.write(dir, ca.workload("default", "frontend").issue());
        TlsLoopback.ServerSide side = loop.server(TlsContexts.forServer(serverId, TlsOptions.defaults()));
        ClientTls client = TlsContexts.forClient(clientId, TlsOptions.builder()
                .subjectAltNames("spiffe://cluster.local/ns/other/sa/x", "spiffe://cluster.local/ns/default/sa/backend")
                .build());

        TlsLoopback.Outcome out = loop.connect(client, side.port());

        assertTrue(out.handshakeOk());
        assertEquals(TlsLoopback.MESSAGE, out.echoed());
    }
}
