package io.meshproxy.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.tls.SpiffeId;
import io.meshproxy.tls.WorkloadIdentity;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code meshproxy certs} writes a CA and workload identities that load as the sidecar's spec.identity would. */
class CertsCommandTest {

    static int run(StringWriter out, String... args) {
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(out));
        return cmd.execute(args);
    }

    @Test
    void writesARootAndWorkloadsWithSpiffeIdentitiesThatLoad(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        assertEquals(0, run(out, "certs", "--out", dir.toString(), "--trust-domain", "cluster.local",
                "--workload", "default/frontend", "--workload", "production/reviews"), out.toString());
        assertTrue(out.toString().contains("spiffe://cluster.local/ns/production/sa/reviews"), out.toString());
        for (String w : new String[] {"default-frontend", "production-reviews"}) {
            Path d = dir.resolve(w);
            WorkloadIdentity id = WorkloadIdentity.load(d.resolve("cert-chain.pem"), d.resolve("key.pem"),
                    d.resolve("root-cert.pem"), "cluster.local");
            assertEquals(w.substring(0, w.indexOf('-')), id.spiffeId().namespace().orElseThrow());
        }
        // a second run adds a workload under the same root
        assertEquals(0, run(out, "certs", "--out", dir.toString(), "--workload", "default/ratings", "--rsa"));
        Path d = dir.resolve("default-ratings");
        WorkloadIdentity ratings = WorkloadIdentity.load(d.resolve("cert-chain.pem"), d.resolve("key.pem"),
                dir.resolve("root-cert.pem"), "cluster.local");
        assertEquals(SpiffeId.parse("spiffe://cluster.local/ns/default/sa/ratings"), ratings.spiffeId());
        assertTrue(Files.readString(dir.resolve("root-cert.pem")).contains("BEGIN CERTIFICATE"));
    }

    @Test
    void aMalformedWorkloadIsAUsageError(@TempDir Path dir) {
        StringWriter out = new StringWriter();
        assertEquals(2, run(out, "certs", "--out", dir.toString(), "--workload", "frontend"));
        assertTrue(out.toString().contains("expected NS/SA"), out.toString());
    }
}
