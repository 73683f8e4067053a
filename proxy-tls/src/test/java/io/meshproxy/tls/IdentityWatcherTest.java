package io.meshproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.tls.internal.Pem;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The identity files of a listener's {@link ServerTls}, watched: a valid new certificate is presented by the next
 * handshake (a fresh client's full handshake reads the serial); every kind of broken file is refused, counted and
 * named while the old certificate keeps serving; a half-written rotation is not reported; expiry warnings follow
 * an injected clock. Polls are driven by the test ({@link IdentityWatcher#poll()}), so nothing waits on time.
 */
class IdentityWatcherTest {
    @TempDir Path dir;
    final TlsLoopback loop = new TlsLoopback();
    final DevCa ca = DevCa.create(Identities.TD);
    Path w;
    IdentityWatcher watcher;
    ServerTls server;
    TlsLoopback.ServerSide side;
    WorkloadIdentity client;
    BigInteger firstSerial;

    @BeforeEach
    void start() throws Exception {
        DevCa.Issued first = ca.workload("default", "backend").issue();
        firstSerial = first.certificate().getSerialNumber();
        w = first.writeTo(dir);
        watcher = IdentityWatcher.builder(w.resolve("cert-chain.pem"), w.resolve("key.pem"), w.resolve("root-cert.pem"),
                Identities.TD).build();
        server = TlsContexts.forServer(watcher.current(), TlsOptions.defaults());
        watcher.addListener(server::rotate);
        side = loop.server(server);
        client = Identities.write(dir.resolve("client"), ca.workload("default", "frontend").issue());
    }

    @AfterEach
    void close() {
        watcher.close();
        loop.close();
    }

    BigInteger served() throws Exception {
        return TlsProbe.serverSerial(loop.group, client, side.port());
    }

    @Test
    void aNewCertificateIsPresentedByTheNextHandshake() throws Exception {
        assertEquals(firstSerial, served());
        DevCa.Issued next = ca.workload("default", "backend").issue();
        next.writeTo(dir);

        assertTrue(watcher.poll(), "the change is taken into use at the first poll");

        assertEquals(next.certificate().getSerialNumber(), served());
        assertEquals(1, watcher.rotations());
        assertEquals(0, watcher.rejected());
        assertFalse(watcher.poll(), "nothing changed since");
    }

    void assertRefusedThenRecovered(Consumer<Path> breakIt, String fileName, String reason) throws Exception {
        breakIt.accept(w);
        assertFalse(watcher.poll());
        assertEquals(0, watcher.rejected(), "seen once: maybe half-written, not reported yet");
        assertFalse(watcher.poll());
        assertEquals(1, watcher.rejected(), "the same broken files on the next poll: reported");
        assertTrue(watcher.lastRejection().contains(fileName), watcher.lastRejection());
        assertTrue(watcher.lastRejection().contains(reason), watcher.lastRejection());
        assertFalse(watcher.poll());
        assertEquals(1, watcher.rejected(), "reported once, not at every poll");
        assertEquals(firstSerial, served(), "the old certificate keeps serving");
        assertEquals(firstSerial, server.identity().leaf().getSerialNumber());

        DevCa.Issued good = ca.workload("default", "backend").issue();
        good.writeTo(dir);
        assertTrue(watcher.poll());
        assertEquals(good.certificate().getSerialNumber(), served(), "a later good set is taken");
    }

    static void write(Path file, String text) {
        try {
            Pem.write(file, text, false);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void garbagePem() throws Exception {
        assertRefusedThenRecovered(w -> write(w.resolve("cert-chain.pem"), "this is not a certificate\n"),
                "cert-chain.pem", "not PEM certificates");
    }

    @Test
    void keyThatDoesNotMatchTheLeaf() throws Exception {
        DevCa.Issued other = ca.workload("default", "backend").issue();
        assertRefusedThenRecovered(w -> write(w.resolve("key.pem"), Pem.privateKey(other.privateKey())),
                "key.pem", "does not match the leaf");
    }

    @Test
    void anotherTrustDomain() throws Exception {
        DevCa foreign = DevCa.create("other.domain");
        assertRefusedThenRecovered(w -> {
            try {
                DevCa.Issued f = foreign.workload("default", "backend").issue();
                write(w.resolve("cert-chain.pem"), Pem.certificates(List.of(f.certificate())));
                write(w.resolve("key.pem"), Pem.privateKey(f.privateKey()));
                write(w.resolve("root-cert.pem"), Pem.certificates(List.of(f.root())));
            } catch (RuntimeException e) {
                throw e;
            }
        }, "cert-chain.pem", "is not in the trust domain 'cluster.local'");
    }

    @Test
    void expiredCertificate() throws Exception {
        Instant now = Instant.now();
        DevCa.Issued expired = ca.workload("default", "backend")
                .validity(now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1))).issue();
        assertRefusedThenRecovered(w -> {
            write(w.resolve("cert-chain.pem"), Pem.certificates(List.of(expired.certificate())));
            write(w.resolve("key.pem"), Pem.privateKey(expired.privateKey()));
        }, "cert-chain.pem", "expired at");
    }

    @Test
    void chainThatDoesNotLeadToTheBundle() throws Exception {
        DevCa.Issued stranger = DevCa.create(Identities.TD).workload("default", "backend").issue();
        assertRefusedThenRecovered(w -> {
            write(w.resolve("cert-chain.pem"), Pem.certificates(List.of(stranger.certificate())));
            write(w.resolve("key.pem"), Pem.privateKey(stranger.privateKey()));
        }, "cert-chain.pem", "does not verify against the trust bundle");
    }

    @Test
    void aHalfWrittenRotationIsNotReported() throws Exception {
        DevCa.Issued next = ca.workload("default", "backend").issue();
        write(w.resolve("cert-chain.pem"), Pem.certificates(List.of(next.certificate())));
        assertFalse(watcher.poll(), "new certificate, old key: not usable yet");
        assertEquals(firstSerial, served());
        write(w.resolve("key.pem"), Pem.privateKey(next.privateKey()));

        assertTrue(watcher.poll());

        assertEquals(0, watcher.rejected(), "no false error for the moment between the two writes");
        assertNull(watcher.lastRejection());
        assertEquals(next.certificate().getSerialNumber(), served());
    }

    @Test
    void aNewTrustBundleVerifiesClientsFromTheNextHandshake() throws Exception {
        DevCa newCa = DevCa.create(Identities.TD);
        DevCa.Issued next = newCa.workload("default", "backend").issue();
        WorkloadIdentity newClient = Identities.write(dir.resolve("new-client"), newCa.workload("default", "frontend").issue());
        assertNull(loop.connect(TlsContexts.forClient(newClient, TlsOptions.defaults()), side.port()).echoed(),
                "a client of the new CA is refused before the rotation");
        next.writeTo(dir);

        assertTrue(watcher.poll());

        assertEquals(TlsLoopback.MESSAGE,
                loop.connect(TlsContexts.forClient(newClient, TlsOptions.defaults()), side.port()).echoed());
        assertNull(loop.connect(TlsContexts.forClient(client, TlsOptions.defaults()), side.port()).echoed(),
                "a client of the old CA is refused after it");
    }

    /** A clock the test moves. */
    static final class MovableClock extends Clock {
        volatile Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void expiryWarningWhenLessThanAFifthOfTheLifetimeIsLeft() throws Exception {
        Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
        MovableClock clock = new MovableClock(t0.plus(Duration.ofDays(1)));
        DevCa.Issued tenDays = ca.workload("default", "api").validity(t0, t0.plus(Duration.ofDays(10))).issue();
        Path api = tenDays.writeTo(dir);
        try (IdentityWatcher watched = IdentityWatcher.builder(api.resolve("cert-chain.pem"), api.resolve("key.pem"),
                api.resolve("root-cert.pem"), Identities.TD).clock(clock).expiryWarningFraction(0.2).build()) {
            assertEquals(0, watched.expiryWarnings(), "90% of its lifetime left");
            clock.now = t0.plus(Duration.ofDays(7));
            watched.poll();
            assertEquals(0, watched.expiryWarnings(), "30% left: Istio would have rotated, still no warning");

            clock.now = t0.plus(Duration.ofHours(8 * 24 + 12)); // 15% left
            watched.poll();
            assertEquals(1, watched.expiryWarnings());
            watched.poll();
            clock.now = clock.now.plus(Duration.ofHours(12));
            watched.poll();
            assertEquals(1, watched.expiryWarnings(), "not again before half the remaining 36 h has passed");
            clock.now = clock.now.plus(Duration.ofHours(7)); // 19 h after the first warning
            watched.poll();
            assertEquals(2, watched.expiryWarnings(), "repeated");

            clock.now = t0.plus(Duration.ofDays(10)).plusSeconds(1);
            watched.poll();
            assertEquals(3, watched.expiryWarnings(), "expired: an error");

            DevCa.Issued fresh = ca.workload("default", "api")
                    .validity(clock.now.minus(Duration.ofHours(1)), clock.now.plus(Duration.ofDays(1))).issue();
            fresh.writeTo(dir);
            assertTrue(watched.poll(), "a fresh certificate is taken");
            watched.poll();
            assertEquals(3, watched.expiryWarnings(), "and the warnings stop");
        }
    }
}
