package io.meshproxy.tls;

import io.meshproxy.core.config.ClusterConfig;
import io.meshproxy.core.config.ListenerConfig;
import io.meshproxy.core.tls.TransportSecurity;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A {@link TransportSecurity} passing everything to another and noting, for each finished handshake (the core asks
 * {@link #isResumed} once per handshake), whether it resumed, the certificate the peer presented, and when the
 * engine was created (an engine created after a rotation runs its whole handshake with the new certificate).
 */
final class RecordingSecurity implements TransportSecurity {
    record Handshake(boolean resumed, BigInteger peerSerial, long engineCreatedNanos) {}

    private final TransportSecurity delegate;
    private final Map<SSLEngine, Long> created = new ConcurrentHashMap<>();
    final List<Handshake> handshakes = new CopyOnWriteArrayList<>();

    RecordingSecurity(TransportSecurity delegate) {
        this.delegate = delegate;
    }

    @Override
    public SSLEngine newServerEngine(ListenerConfig listener) {
        SSLEngine e = delegate.newServerEngine(listener);
        created.put(e, System.nanoTime());
        return e;
    }

    @Override
    public SSLEngine newClientEngine(ClusterConfig cluster, String host, int port) {
        SSLEngine e = delegate.newClientEngine(cluster, host, port);
        created.put(e, System.nanoTime());
        return e;
    }

    @Override
    public String peerPrincipal(SSLSession session) {
        return delegate.peerPrincipal(session);
    }

    @Override
    public boolean isResumed(SSLEngine engine) {
        boolean resumed = delegate.isResumed(engine);
        BigInteger serial;
        try {
            serial = ((X509Certificate) engine.getSession().getPeerCertificates()[0]).getSerialNumber();
        } catch (SSLPeerUnverifiedException e) {
            serial = null;
        }
        Long at = created.remove(engine);
        handshakes.add(new Handshake(resumed, serial, at == null ? Long.MIN_VALUE : at));
        return resumed;
    }

    @Override
    public void handshakeCompleted(boolean server, boolean resumed, long durationNanos) {
        delegate.handshakeCompleted(server, resumed, durationNanos);
    }

    /** Full handshakes whose engine was created after {@code nanos}. */
    List<Handshake> fullSince(long nanos) {
        return handshakes.stream().filter(h -> !h.resumed() && h.engineCreatedNanos() > nanos).toList();
    }
}
