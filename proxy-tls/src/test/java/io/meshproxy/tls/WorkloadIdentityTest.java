package io.meshproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadIdentityTest {
    @TempDir Path dir;
    final DevCa ca = DevCa.create(Identities.TD);

    private static WorkloadIdentity load(Path w, String td) throws InvalidIdentityException {
        return WorkloadIdentity.load(w.resolve("cert-chain.pem"), w.resolve("key.pem"), w.resolve("root-cert.pem"), td);
    }

    @Test
    void loadsTheDevCaLayout() throws Exception {
        ca.writeRoot(dir);
        Instant notAfter = Instant.now().plus(Duration.ofHours(3)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        DevCa.Issued issued = ca.workload("default", "frontend").validity(Instant.now().minusSeconds(60), notAfter).issue();
        Path w = issued.writeTo(dir);

        assertEquals(dir.resolve("default-frontend"), w);
        assertTrue(Files.readString(w.resolve("key.pem")).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals(Files.readString(dir.resolve("root-cert.pem")), Files.readString(w.resolve("root-cert.pem")));
        WorkloadIdentity id = load(w, "cluster.local");
        assertEquals("spiffe://cluster.local/ns/default/sa/frontend", id.spiffeId().toString());
        assertEquals(notAfter, id.notAfter());
        // The root can be reloaded to issue more workloads later (the certs command run twice).
        DevCa again = DevCa.load(dir, Identities.TD, java.time.Clock.systemUTC());
        load(again.workload("default", "backend").issue().writeTo(dir), "cluster.local");
    }

    @Test
    void keyNotMatchingTheCertificate() throws Exception {
        Path w = ca.workload("default", "frontend").issue().writeTo(dir);
        Path other = ca.workload("default", "backend").issue().writeTo(dir);
        Files.copy(other.resolve("key.pem"), w.resolve("key.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        InvalidIdentityException e = assertThrows(InvalidIdentityException.class, () -> load(w, "cluster.local"));
        assertEquals(w.resolve("key.pem"), e.file());
        assertTrue(e.getMessage().contains("private key does not match the leaf certificate"), e.getMessage());
    }

    @Test
    void rsaKeyWithEcdsaCertificate() throws Exception {
        Path w = ca.workload("default", "frontend").issue().writeTo(dir);
        Path rsa = ca.workload("default", "rsa").keyType(DevCa.KeyType.RSA_2048).issue().writeTo(dir);
        Files.copy(rsa.resolve("key.pem"), w.resolve("key.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        InvalidIdentityException e = assertThrows(InvalidIdentityException.class, () -> load(w, "cluster.local"));
        assertTrue(e.reason().startsWith("private key does not match"), e.getMessage());
    }

    @Test
    void missingSpiffeSan() throws Exception {
        Path w = ca.workload("default", "frontend").withoutSpiffeSan().issue().writeTo(dir);
        InvalidIdentityException e = assertThrows(InvalidIdentityException.class, () -> load(w, "cluster.local"));
        assertEquals(w.resolve("cert-chain.pem"), e.file());
        assertTrue(e.getMessage().contains("has no SPIFFE URI SAN"), e.getMessage());
    }

    @Test
    void wrongTrustDomain() throws Exception {
        Path w = ca.workload("default", "frontend").issue().writeTo(dir);
        InvalidIdentityException e = assertThrows(InvalidIdentityException.class, () -> load(w, "prod.example.com"));
        assertEquals(w.resolve("cert-chain.pem"), e.file());
        assertTrue(e.getMessage().contains("spiffe://cluster.local/ns/default/sa/frontend is not in the trust domain "
                + "'prod.example.com'"), e.getMessage());
    }

    @Test
    void unreadableFile() throws Exception {
        Path w = ca.workload("default", "frontend").issue().writeTo(dir);
        Files.delete(w.resolve("root-cert.pem"));
        InvalidIdentityException e = assertThrows(InvalidIdentityException.class, () -> load(w, "cluster.local"));
        assertEquals(w.resolve("root-cert.pem"), e.file());
        assertTrue(e.getMessage().endsWith("cannot read trust bundle: no such file"), e.getMessage());
    }

    @Test
    void notPem() throws Exception {
        Path w = ca.workload("default", "frontend").issue().writeTo(dir);
        Files.writeString(w.resolve("cert-chain.pem"), "garbage");
        InvalidIdentityException e = assertThrows(InvalidIdentityException.class, () -> load(w, "cluster.local"));
        assertEquals(w.resolve("cert-chain.pem"), e.file());
        assertTrue(e.getMessage().contains("no PEM CERTIFICATE block"), e.getMessage());
    }

    @Test
    void expiredCertificate() throws Exception {
        Instant now = Instant.now();
        Path w = ca.workload("default", "frontend").validity(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)))
                .issue().writeTo(dir);
        InvalidIdentityException e = assertThrows(InvalidIdentityException.class, () -> load(w, "cluster.local"));
        assertTrue(e.getMessage().contains("expired at"), e.getMessage());
    }

    @Test
    void chainFromAnotherCa() throws Exception {
        Path w = ca.workload("default", "frontend").issue().writeTo(dir);
        DevCa other = DevCa.create(Identities.TD);
        other.writeRoot(dir.resolve("other"));
        Files.copy(dir.resolve("other/root-cert.pem"), w.resolve("root-cert.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        InvalidIdentityException e = assertThrows(InvalidIdentityException.class, () -> load(w, "cluster.local"));
        assertTrue(e.getMessage().contains("does not verify against the trust bundle"), e.getMessage());
    }
}
