package io.meshproxy.tls.internal;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.tls.DevCa;
import io.meshproxy.tls.SpiffeId;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The trust manager alone (the handshake tests also pass through HandshakeObserver's second check, which would
 * hide a trust manager that let these through).
 */
class SpiffeTrustManagerTest {
    final DevCa ca = DevCa.create("cluster.local");
    final SpiffeTrustManager tm = new SpiffeTrustManager(List.of(ca.root()), "cluster.local", List.of());

    private X509Certificate[] chain(DevCa.Issued issued) {
        return new X509Certificate[] {issued.certificate()};
    }

    @Test
    void acceptsAWorkloadOfTheTrustDomain() throws Exception {
        tm.checkClientTrusted(chain(ca.workload("default", "frontend").issue()), "ECDHE_ECDSA");
    }

    @Test
    void rejectsAnotherTrustDomain() {
        DevCa.Issued foreign = ca.workload(SpiffeId.parse("spiffe://other.domain/ns/default/sa/frontend")).issue();
        CertificateException e = assertThrows(CertificateException.class,
                () -> tm.checkClientTrusted(chain(foreign), "ECDHE_ECDSA"));
        assertTrue(e.getMessage().contains("not in trust domain 'cluster.local'"), e.getMessage());
    }

    @Test
    void rejectsACertificateWithoutSpiffeSan() {
        DevCa.Issued none = ca.workload("default", "frontend").withoutSpiffeSan().dnsNames("frontend").issue();
        CertificateException e = assertThrows(CertificateException.class,
                () -> tm.checkClientTrusted(chain(none), "ECDHE_ECDSA"));
        assertTrue(e.getMessage().contains("exactly one SPIFFE URI SAN, has 0"), e.getMessage());
    }

    @Test
    void rejectsAnotherCa() {
        DevCa other = DevCa.create("cluster.local");
        assertThrows(CertificateException.class,
                () -> tm.checkClientTrusted(chain(other.workload("default", "frontend").issue()), "ECDHE_ECDSA"));
    }
}
