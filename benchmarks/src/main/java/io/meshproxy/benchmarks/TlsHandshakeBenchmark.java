package io.meshproxy.benchmarks;

import io.meshproxy.tls.ClientTls;
import io.meshproxy.tls.DevCa;
import io.meshproxy.tls.ServerTls;
import io.meshproxy.tls.TlsContexts;
import io.meshproxy.tls.TlsOptions;
import io.meshproxy.tls.TlsProvider;
import io.meshproxy.tls.WorkloadIdentity;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import io.netty.util.ReferenceCountUtil;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;

/**
 * The CPU cost of one mTLS handshake between two workload identities, full and resumed, on BoringSSL: a client
 * {@link SSLEngine} and a server {@link SSLEngine} from {@link TlsContexts} (the contexts the mesh's listeners and
 * clusters use: client certificate required, SPIFFE verification, ALPN) hand their records to each other through
 * two {@link ByteBuffer}s on the benchmark thread. No socket, no event loop, no other thread: what is measured is
 * the handshake's computation (key exchange, signatures, certificate-chain and SPIFFE checks, ticket sealing).
 *
 * <ul>
 *   <li>{@link #full}: the client offers no session (every handshake is keyed by a new peer port, so the client's
 *       session cache has nothing for it): ECDHE plus a signature and a chain verification on each side.</li>
 *   <li>{@link #resumed}: the client offers the session of its previous handshake with the same peer (TLS 1.3: a
 *       PSK from the last NewSessionTicket, with ECDHE; TLS 1.2: the session ticket). Both engines are asked
 *       ({@code SSL_session_reused}) after each handshake; one that was not resumed fails the benchmark, so a silent
 *       full handshake can never be counted as resumed (and one that was resumed fails {@link #full}).</li>
 * </ul>
 *
 * <p>Each handshake is followed by the connection's first request and response, one small record each way:
 * BoringSSL sends a TLS 1.3 server's session tickets with its first write, so this is what gives the client a
 * ticket to resume with, as on a real connection (for TLS 1.2, whose ticket comes within the handshake, it is done
 * too, so the two protocols are measured alike). Two small records cost about a microsecond on each side.
 *
 * <p>The primary score is the elapsed time of a whole handshake, both sides together, on one thread. The
 * auxiliary counters are CPU time, so that a machine busy with other work does not inflate them: {@code cpuUs} is
 * the thread's CPU time per handshake; it is attributed to the sides in the proportion of the elapsed time read
 * with {@link System#nanoTime()} around every call made on each side's engine (creating it, {@code wrap},
 * {@code unwrap}, its delegated tasks, releasing it). {@code clientUs} and {@code serverUs} are each side's mean
 * CPU microseconds per handshake, {@code clientPerSecond} and {@code serverPerSecond} what one core would do of
 * that side alone (1 / its time). The loop between the sides and the timer reads belong to neither and are shared
 * out with the rest.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
public class TlsHandshakeBenchmark {
    private static final String HOST = "10.0.0.7"; // endpoints are dialled by IP in the mesh
    private static final int MAX_ROUNDS = 64;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private static final byte[] REQUEST = "GET /reviews/1 HTTP/1.1\r\nHost: reviews\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RESPONSE = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** {@code TLSv1.3} or {@code TLSv1.2}: both sides are restricted to it. */
    @Param({TlsOptions.TLS_1_3, TlsOptions.TLS_1_2})
    public String protocol;

    /** The workload keys of both sides (the root is always ECDSA P-256, as DevCa makes it). */
    @Param({"ECDSA_P256", "RSA_2048"})
    public DevCa.KeyType key;

    private ServerTls server;
    private ClientTls client;
    /** Client to server and server to client records; kept in write mode between the calls of a side. */
    private final ByteBuffer toServer = ByteBuffer.allocateDirect(64 * 1024);
    private final ByteBuffer toClient = ByteBuffer.allocateDirect(64 * 1024);
    private final ByteBuffer application = ByteBuffer.allocateDirect(64 * 1024);
    private int nextPort = 1;

    /**
     * Per-side cost of one iteration, reset by JMH before each. JMH adds up {@code EVENTS} counters over the
     * measurement iterations, so each iteration reports its figure divided by the number of iterations: the
     * table then shows the mean over the iterations.
     *
     * <p>The cost is CPU time, not elapsed time: {@code cpuNanos} is the benchmark thread's CPU time over whole
     * handshakes (BoringSSL's work is native code on this thread), so time the thread spends descheduled on a busy
     * machine is not counted. It is split between the sides in the proportion of the elapsed time read around each
     * side's calls ({@code clientNanos}, {@code serverNanos}).
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Sides {
        long handshakes;
        long clientNanos;
        long serverNanos;
        long cpuNanos;
        int iterations = 1;

        @Setup(Level.Iteration)
        public void reset(IterationParams iteration) {
            handshakes = 0;
            clientNanos = 0;
            serverNanos = 0;
            cpuNanos = 0;
            iterations = Math.max(1, iteration.getCount());
        }

        private double cpuNanosPerHandshake(long sideNanos) {
            long both = clientNanos + serverNanos;
            return handshakes == 0 || both == 0 ? 0 : (double) cpuNanos * sideNanos / both / handshakes;
        }

        /** Mean CPU microseconds per handshake, both sides. */
        public double cpuUs() {
            return handshakes == 0 ? 0 : cpuNanos / 1000.0 / handshakes / iterations;
        }

        /** Mean client-side CPU microseconds per handshake. */
        public double clientUs() {
            return cpuNanosPerHandshake(clientNanos) / 1000.0 / iterations;
        }

        /** Mean server-side CPU microseconds per handshake. */
        public double serverUs() {
            return cpuNanosPerHandshake(serverNanos) / 1000.0 / iterations;
        }

        /** Client-side handshakes one core would complete per second. */
        public double clientPerSecond() {
            double n = cpuNanosPerHandshake(clientNanos);
            return n == 0 ? 0 : 1e9 / n / iterations;
        }

        /** Server-side handshakes one core would complete per second. */
        public double serverPerSecond() {
            double n = cpuNanosPerHandshake(serverNanos);
            return n == 0 ? 0 : 1e9 / n / iterations;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        if (TlsContexts.availableProvider() != TlsProvider.OPENSSL) {
            throw new IllegalStateException("BoringSSL (netty-tcnative) does not load here; this benchmark measures it");
        }
        Path dir = Files.createTempDirectory("tls-handshake-bench");
        DevCa ca = DevCa.create("cluster.local");
        TlsOptions options = TlsOptions.builder().protocols(protocol).requireOpenSsl(true).build();
        server = TlsContexts.forServer(identity(dir, ca.workload("default", "reviews").keyType(key).issue()), options);
        client = TlsContexts.forClient(identity(dir, ca.workload("default", "productpage").keyType(key).issue()),
                TlsOptions.builder().protocols(protocol).requireOpenSsl(true).alpn("http/1.1").build());
        // Fail at once if the set-up cannot do what is measured, rather than after minutes of exceptions.
        Sides check = new Sides();
        handshake(nextPort, check, false);
        handshake(nextPort, check, true);
    }

    private static WorkloadIdentity identity(Path dir, DevCa.Issued issued) throws Exception {
        Path w = issued.writeTo(dir);
        return WorkloadIdentity.load(w.resolve("cert-chain.pem"), w.resolve("key.pem"), w.resolve("root-cert.pem"),
                "cluster.local");
    }

    /** A full handshake: the client has no session for this peer. */
    @Benchmark
    public int full(Sides sides) throws SSLException {
        // A new peer port each time: the client's session cache (keyed by host and port) has nothing to offer.
        // 60,000 ports cycle through a cache of 10,000 entries, so a port's old session is long evicted.
        nextPort = nextPort % 60_000 + 1;
        return handshake(nextPort, sides, false);
    }

    /** A resumed handshake: the client offers the session its previous handshake with the same peer left. */
    @Benchmark
    public int resumed(Sides sides) throws SSLException {
        return handshake(nextPort, sides, true);
    }

    /** One handshake to {@code HOST:port}; checks it was resumed exactly when {@code expectResumed}. */
    private int handshake(int port, Sides sides, boolean expectResumed) throws SSLException {
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        SSLEngine c = client.context().newEngine(ByteBufAllocator.DEFAULT, HOST, port);
        long t1 = System.nanoTime();
        SSLEngine s = server.context().newEngine(ByteBufAllocator.DEFAULT);
        long t2 = System.nanoTime();
        long clientNanos = t1 - t0;
        long serverNanos = t2 - t1;
        toServer.clear();
        toClient.clear();
        int rounds = 0;
        try {
            c.beginHandshake();
            s.beginHandshake();
            boolean progress = true;
            // Until both have finished and a whole round moved no bytes: a TLS 1.3 server sends its
            // NewSessionTicket after the handshake, and the client must read it to have a session to resume.
            while (progress || handshaking(c) || handshaking(s)) {
                if (++rounds > MAX_ROUNDS) {
                    throw new IllegalStateException("no handshake after " + MAX_ROUNDS + " rounds: client "
                            + c.getHandshakeStatus() + ", server " + s.getHandshakeStatus());
                }
                long a = System.nanoTime();
                int moved = step(c, toClient, toServer);
                long b = System.nanoTime();
                moved += step(s, toServer, toClient);
                long d = System.nanoTime();
                clientNanos += b - a;
                serverNanos += d - b;
                progress = moved > 0;
            }
            // The first request and response of the connection, one small record each way. BoringSSL sends a TLS 1.3
            // server's NewSessionTicket with its first write, not at the end of the handshake, so without this
            // exchange the client would never have a ticket to resume with; it is done for TLS 1.2 too, alike.
            long a = System.nanoTime();
            write(c, REQUEST, toServer);
            long b = System.nanoTime();
            int requestBytes = read(s, toServer);
            write(s, RESPONSE, toClient);
            long d = System.nanoTime();
            int responseBytes = read(c, toClient);
            long f = System.nanoTime();
            clientNanos += (b - a) + (f - d);
            serverNanos += d - b;
            if (requestBytes != REQUEST.length || responseBytes != RESPONSE.length) {
                throw new IllegalStateException("application data: " + requestBytes + " and " + responseBytes + " bytes");
            }
            a = System.nanoTime();
            boolean clientResumed = reused(c);
            b = System.nanoTime();
            boolean serverResumed = reused(s);
            d = System.nanoTime();
            clientNanos += b - a;
            serverNanos += d - b;
            if (clientResumed != expectResumed || serverResumed != expectResumed) {
                throw new IllegalStateException("expected a " + (expectResumed ? "resumed" : "full") + " " + protocol
                        + " handshake, got client resumed=" + clientResumed + ", server resumed=" + serverResumed);
            }
        } finally {
            long a = System.nanoTime();
            ReferenceCountUtil.release(c);
            long b = System.nanoTime();
            ReferenceCountUtil.release(s);
            long d = System.nanoTime();
            clientNanos += b - a;
            serverNanos += d - b;
        }
        sides.cpuNanos += THREADS.getCurrentThreadCpuTime() - cpu0;
        sides.handshakes++;
        sides.clientNanos += clientNanos;
        sides.serverNanos += serverNanos;
        return rounds;
    }

    private static boolean handshaking(SSLEngine e) {
        SSLEngineResult.HandshakeStatus h = e.getHandshakeStatus();
        return h != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING && h != SSLEngineResult.HandshakeStatus.FINISHED;
    }

    /**
     * One turn of one side: reads what the peer sent ({@code in}), then writes what it has to send ({@code out}),
     * running delegated tasks (certificate verification) inline. Both buffers are in write mode on entry and exit.
     * Returns the bytes consumed plus produced.
     */
    private int step(SSLEngine e, ByteBuffer in, ByteBuffer out) throws SSLException {
        int moved = 0;
        in.flip();
        try {
            while (in.hasRemaining()) {
                application.clear();
                SSLEngineResult r = e.unwrap(in, application);
                runTasks(e);
                moved += r.bytesConsumed();
                if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0) {
                    break;
                }
            }
        } finally {
            in.compact();
        }
        while (true) {
            SSLEngineResult r = e.wrap(EMPTY, out);
            runTasks(e);
            moved += r.bytesProduced();
            if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesProduced() == 0) {
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                    throw new IllegalStateException("a handshake flight larger than " + out.capacity() + " bytes");
                }
                break;
            }
        }
        return moved;
    }

    /** Encrypts {@code data} into {@code out} (write mode). */
    private static void write(SSLEngine e, byte[] data, ByteBuffer out) throws SSLException {
        ByteBuffer src = ByteBuffer.wrap(data);
        while (src.hasRemaining()) {
            SSLEngineResult r = e.wrap(src, out);
            if (r.getStatus() != SSLEngineResult.Status.OK) {
                throw new IllegalStateException("wrap of application data: " + r);
            }
        }
    }

    /** Decrypts everything in {@code in} (write mode; left empty), returns the application bytes. */
    private int read(SSLEngine e, ByteBuffer in) throws SSLException {
        int bytes = 0;
        in.flip();
        while (in.hasRemaining()) {
            application.clear();
            SSLEngineResult r = e.unwrap(in, application);
            runTasks(e);
            bytes += r.bytesProduced();
            if (r.getStatus() != SSLEngineResult.Status.OK) {
                throw new IllegalStateException("unwrap of application data: " + r);
            }
        }
        in.clear();
        return bytes;
    }

    private static void runTasks(SSLEngine e) {
        Runnable task;
        while ((task = e.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /** BoringSSL's own answer ({@code SSL_session_reused}), as the mesh's handshake statistics ask it. */
    private static boolean reused(SSLEngine e) {
        ReferenceCountedOpenSslEngine engine = (ReferenceCountedOpenSslEngine) e;
        synchronized (engine) {
            return SSL.isSessionReused(engine.sslPointer());
        }
    }
}
