package io.meshproxy.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.config.ProxyConfig;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import io.meshproxy.core.tls.TransportSecurity;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate rotation under continuous load, as two sidecars see it: B (STRICT inbound listener) and two outbound
 * proxies A1 (HTTP/2, one long-lived upstream connection) and A2 (HTTP/1.1, a new upstream connection every three
 * requests) on one client identity, each side watching its own identity files. Clients send requests all the
 * time, on keep-alive connections opened before the rotation and on a new connection per request. Both sides'
 * files are replaced mid-load (new serials, same SPIFFE IDs): no request fails, the connections opened before
 * keep serving, and full handshakes after the rotation present the new certificates in both directions.
 */
class RotationUnderLoadTest {
    @TempDir Path dir;

    static MeshProxy inbound(TransportSecurity security, TestUpstream app) {
        return MeshProxy.builder().transportSecurity(security)
                .config(ProxyConfig.builder()
                        .listener(ListenerConfig.builder().name("inbound").port(0).tlsMode(DownstreamTlsMode.STRICT)
                                .routes(Configs.allTo("app")).build())
                        .cluster(Configs.cluster("app", UpstreamProtocol.HTTP1, app))
                        .build())
                .build().start();
    }

    static IdentityWatcher watcher(Path w) throws InvalidIdentityException {
        return IdentityWatcher.builder(w.resolve("cert-chain.pem"), w.resolve("key.pem"), w.resolve("root-cert.pem"),
                Identities.TD).pollInterval(Duration.ofMillis(50)).build();
    }

    @Test
    void rotatingBothSidesMidLoadFailsNoRequest() throws Exception {
        DevCa ca = DevCa.create(Identities.TD);
        DevCa.Issued server1 = ca.workload("production", "reviews").issue();
        DevCa.Issued client1 = ca.workload("production", "frontend").issue();
        Path sw = server1.writeTo(dir.resolve("s"));
        Path cw = client1.writeTo(dir.resolve("c"));
        ScheduledExecutorService polling = Executors.newSingleThreadScheduledExecutor();
        IdentityWatcher sWatch = watcher(sw);
        IdentityWatcher cWatch = watcher(cw);
        MeshTransportSecurity serverSecurity = new MeshTransportSecurity(sWatch.current(), TlsOptions.defaults())
                .watch(sWatch, polling);
        MeshTransportSecurity clientSecurity = new MeshTransportSecurity(cWatch.current(), TlsOptions.defaults())
                .watch(cWatch, polling);
        RecordingSecurity b = new RecordingSecurity(serverSecurity);
        RecordingSecurity a1 = new RecordingSecurity(clientSecurity);
        RecordingSecurity a2 = new RecordingSecurity(clientSecurity);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ok = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> load = new ArrayList<>();
        try (TestUpstream app = TestUpstream.start("app");
             MeshProxy bProxy = inbound(b, app);
             MeshProxy a1Proxy = MeshMutualTlsTest.clientSide(a1, bProxy.listenerPort("inbound"), UpstreamProtocol.HTTP2, 0);
             MeshProxy a2Proxy = MeshMutualTlsTest.clientSide(a2, bProxy.listenerPort("inbound"), UpstreamProtocol.HTTP1, 3)) {
            int[] ports = {a1Proxy.listenerPort("outbound"), a2Proxy.listenerPort("outbound")};
            for (int i = 0; i < 4; i++) {
                int port = ports[i % 2];
                RawHttp keepAlive = new RawHttp(port); // opened before the rotation, used throughout
                load.add(new Thread(() -> {
                    try (keepAlive) {
                        while (!stop.get()) {
                            int s = keepAlive.send("GET /keep HTTP/1.1\r\nHost: reviews\r\n\r\n").read().status();
                            if (s == 200) ok.incrementAndGet(); else failures.add("keep-alive: " + s);
                        }
                    } catch (Exception e) {
                        failures.add("keep-alive connection: " + e);
                    }
                }, "keep-alive-" + i));
            }
            for (int i = 0; i < 2; i++) {
                int port = ports[i % 2];
                load.add(new Thread(() -> {
                    while (!stop.get()) {
                        try (RawHttp c = new RawHttp(port)) {
                            int s = c.send("GET /new HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n")
                                    .read().status();
                            if (s == 200) ok.incrementAndGet(); else failures.add("new connection: " + s);
                        } catch (Exception e) {
                            failures.add("new connection: " + e);
                        }
                    }
                }, "reconnecting-" + i));
            }
            load.forEach(Thread::start);
            await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() >= 300);
            int a1HandshakesBefore = a1.handshakes.size();
            assertEquals(server1.certificate().getSerialNumber(), a2.handshakes.get(0).peerSerial());
            assertEquals(client1.certificate().getSerialNumber(), b.handshakes.get(0).peerSerial());

            DevCa.Issued server2 = ca.workload("production", "reviews").issue();
            DevCa.Issued client2 = ca.workload("production", "frontend").issue();
            server2.writeTo(dir.resolve("s"));
            client2.writeTo(dir.resolve("c"));
            await().atMost(Duration.ofSeconds(10)).until(() -> sWatch.rotations() == 1 && cWatch.rotations() == 1);
            long okAtRotation = ok.get();
            // Tickets issued before still resume (a resumed session keeps the certificates of its full handshake);
            // replacing B's ticket keys makes the next connections full handshakes, which must show the new serials.
            serverSecurity.rotateTicketKeys();
            serverSecurity.rotateTicketKeys();
            long mark = System.nanoTime();
            await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() >= okAtRotation + 300
                    && !a2.fullSince(mark).isEmpty() && !b.fullSince(mark).isEmpty());
            stop.set(true);
            for (Thread t : load) t.join(10_000);

            assertTrue(failures.isEmpty(), () -> "failed requests: " + failures);
            assertEquals(a1HandshakesBefore, a1.handshakes.size(),
                    "A1's HTTP/2 connections to B, opened before the rotation, carried every request after it");
            assertTrue(a1HandshakesBefore >= 1, "(one HTTP/2 connection per event loop with traffic)");
            BigInteger newServer = server2.certificate().getSerialNumber();
            BigInteger newClient = client2.certificate().getSerialNumber();
            for (RecordingSecurity.Handshake h : a2.fullSince(mark)) {
                assertEquals(newServer, h.peerSerial(), "B presents its new certificate");
            }
            for (RecordingSecurity.Handshake h : b.fullSince(mark)) {
                assertEquals(newClient, h.peerSerial(), "A presents its new certificate");
            }
            assertFalse(b.handshakes.stream().anyMatch(h -> h.peerSerial() == null));
            assertTrue(ok.get() > okAtRotation, "requests after the rotation");
            assertEquals(0, sWatch.rejected() + cWatch.rejected());
        } finally {
            stop.set(true);
            serverSecurity.close();
            clientSecurity.close();
            polling.shutdownNow();
        }
    }
}
