package io.meshproxy.tls;

import io.meshproxy.tls.internal.Pem;
import java.nio.file.Path;
import java.util.List;

/** Writes DevCa output into a directory and loads it back as WorkloadIdentity. */
final class Identities {
    static final String TD = "cluster.local";

    private Identities() {}

    static WorkloadIdentity write(Path dir, DevCa.Issued issued, String trustDomain) throws Exception {
        Path w = issued.writeTo(dir);
        return WorkloadIdentity.load(w.resolve("cert-chain.pem"), w.resolve("key.pem"), w.resolve("root-cert.pem"),
                trustDomain);
    }

    static WorkloadIdentity write(Path dir, DevCa.Issued issued) throws Exception {
        return write(dir, issued, TD);
    }

    /** Replaces the workload's root-cert.pem by a bundle of several roots. */
    static WorkloadIdentity writeWithBundle(Path dir, DevCa.Issued issued, List<java.security.cert.X509Certificate> roots)
            throws Exception {
        Path w = issued.writeTo(dir);
        Pem.write(w.resolve("root-cert.pem"), Pem.certificates(roots), false);
        return WorkloadIdentity.load(w.resolve("cert-chain.pem"), w.resolve("key.pem"), w.resolve("root-cert.pem"), TD);
    }
}
