package io.meshproxy.tls.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** PEM in and out: certificates, and private keys (PKCS#8 written; PKCS#8, SEC1 and PKCS#1 read). */
public final class Pem {
    private Pem() {}

    public static String encode(String type, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
    }

    public static String certificates(List<X509Certificate> certs) {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : certs) {
            try {
                sb.append(encode("CERTIFICATE", c.getEncoded()));
            } catch (CertificateException e) {
                throw new IllegalStateException(e);
            }
        }
        return sb.toString();
    }

    /** PKCS#8 ({@code BEGIN PRIVATE KEY}), the form Istio's agent writes. */
    public static String privateKey(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) throw new IllegalArgumentException("key is not PKCS#8 encodable: " + key.getFormat());
        return encode("PRIVATE KEY", key.getEncoded());
    }

    public static void write(Path file, String pem, boolean secret) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
        if (secret) {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        }
        // Readers (a future file watcher) never see a half-written file.
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** All CERTIFICATE blocks of a PEM text, in order; an exception if there are none. */
    public static List<X509Certificate> readCertificates(String pem) throws CertificateException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<X509Certificate> out = new ArrayList<>();
        String begin = "-----BEGIN CERTIFICATE-----";
        String end = "-----END CERTIFICATE-----";
        int from = 0;
        while (true) {
            int b = pem.indexOf(begin, from);
            if (b < 0) break;
            int e = pem.indexOf(end, b);
            if (e < 0) throw new CertificateException("a CERTIFICATE block has no END line");
            String body = pem.substring(b + begin.length(), e).replaceAll("\\s", "");
            byte[] der;
            try {
                der = Base64.getDecoder().decode(body);
            } catch (IllegalArgumentException ex) {
                throw new CertificateException("a CERTIFICATE block is not valid base64");
            }
            out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
            from = e + end.length();
        }
        if (out.isEmpty()) throw new CertificateException("no PEM CERTIFICATE block");
        return out;
    }

    /** The first private key of a PEM text. */
    public static PrivateKey readPrivateKey(String pem) throws IOException {
        try (Reader r = new StringReader(pem); PEMParser parser = new PEMParser(r)) {
            Object o;
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            while ((o = parser.readObject()) != null) {
                if (o instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
                if (o instanceof PEMKeyPair pair) return converter.getKeyPair(pair).getPrivate();
            }
        } catch (RuntimeException e) {
            throw new IOException("malformed PEM: " + e.getMessage(), e);
        }
        throw new IOException("no PEM PRIVATE KEY block (encrypted keys are not supported)");
    }
}
