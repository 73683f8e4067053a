package io.meshproxy.sidecar;

import static io.meshproxy.core.testing.GrpcBytes.collectInto;
import static io.meshproxy.core.testing.GrpcBytes.str;
import static io.meshproxy.core.testing.GrpcBytes.utf8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.meshproxy.core.testing.GrpcBytes;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshproxy.core.config.DownstreamTlsMode;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.config.UpstreamTls;
import io.meshproxy.core.testing.RawHttp;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * gRPC over Istio's mutual TLS through two sidecars, both from YAML with certificates from {@code meshproxy certs}:
 * a grpc-java client calls sidecar A's OUTBOUND listener (h2c); A's ServiceEntry declares the port GRPC and its
 * DestinationRule says ISTIO_MUTUAL, so A opens mTLS to sidecar B offering {@code h2} by ALPN; B's INBOUND listener
 * is STRICT by a PeerAuthentication and forwards (HTTP/2) to a grpc-java server. Unary, server-streaming and
 * bidirectional calls arrive intact with status OK; an error status and its trailer pass through; B's access log
 * shows HTTP/2 on the mTLS hop and the application sees A's SPIFFE identity in {@code x-forwarded-client-cert}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SidecarGrpcMutualTlsTest {
    private static final String SERVICE = "meshproxy.test.Echo";
    private static final String FRONTEND = "spiffe://cluster.local/ns/default/sa/frontend";
    private static final Metadata.Key<String> XFCC =
            Metadata.Key.of("x-forwarded-client-cert", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> ERROR_TRAILER =
            Metadata.Key.of("x-error-detail", Metadata.ASCII_STRING_MARSHALLER);

    private static final MethodDescriptor<byte[], byte[]> UNARY = method(MethodDescriptor.MethodType.UNARY, "Unary");
    private static final MethodDescriptor<byte[], byte[]> COUNT =
            method(MethodDescriptor.MethodType.SERVER_STREAMING, "Count");
    private static final MethodDescriptor<byte[], byte[]> CHAT = method(MethodDescriptor.MethodType.BIDI_STREAMING, "Chat");
    private static final MethodDescriptor<byte[], byte[]> FAIL = method(MethodDescriptor.MethodType.UNARY, "Fail");

    /** The x-forwarded-client-cert of every call the server received, in order. */
    private final BlockingQueue<String> callers = new ArrayBlockingQueue<>(1024);

    @Test
    void grpcCallsCrossStrictMutualTlsBetweenTwoSidecars(@TempDir Path dir) throws Exception {
        StringWriter certsOut = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(certsOut));
        assertEquals(0, cmd.execute("certs", "--out", dir.resolve("certs").toString(),
                "--workload", "default/echo", "--workload", "default/frontend"), certsOut.toString());
        Path certs = dir.resolve("certs");
        Path accessLog = dir.resolve("echo-access.log");

        Server app = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(service(), new CallerRecorder()))
                .build().start();
        ManagedChannel channel = null;
        try {
            Path server = Files.createDirectories(dir.resolve("echo"));
            Files.writeString(server.resolve("proxy.yaml"), """
                    apiVersion: meshproxy.io/v1alpha1
                    kind: Proxy
                    metadata: {name: echo, namespace: default}
                    spec:
                      listeners:
                      - {name: inbound, address: 127.0.0.1, port: 0, direction: INBOUND, forwardTo: "127.0.0.1:%d",
                         forwardProtocol: HTTP2}
                      workload: {name: echo-v1, app: echo, version: v1, serviceAccount: echo}
                      identity:
                        certificateChain: %s
                        privateKey: %s
                        trustBundle: %s
                      telemetry:
                        accessLog: {path: %s}
                    ---
                    apiVersion: security.istio.io/v1
                    kind: PeerAuthentication
                    metadata: {name: default, namespace: default}
                    spec:
                      mtls: {mode: STRICT}
                    """.formatted(app.getPort(), certs.resolve("default-echo/cert-chain.pem"),
                    certs.resolve("default-echo/key.pem"), certs.resolve("root-cert.pem"), accessLog));
            try (Sidecar echo = Sidecar.start(List.of(server), 1)) {
                assertEquals(DownstreamTlsMode.STRICT, echo.mesh().config().listeners().get(0).tlsMode());
                int inbound = echo.mesh().listenerPort("inbound");
                Path client = Files.createDirectories(dir.resolve("frontend"));
                Files.writeString(client.resolve("proxy.yaml"), """
                        apiVersion: meshproxy.io/v1alpha1
                        kind: Proxy
                        metadata: {name: frontend, namespace: default}
                        spec:
                          listeners:
                          - {name: outbound, address: 127.0.0.1, port: 0, direction: OUTBOUND}
                          identity:
                            certificateChain: %s
                            privateKey: %s
                            trustBundle: %s
                        ---
                        apiVersion: networking.istio.io/v1
                        kind: ServiceEntry
                        metadata: {name: echo}
                        spec:
                          hosts: [echo.default.svc.cluster.local]
                          ports: [{number: 9090, name: grpc, protocol: GRPC}]
                          resolution: STATIC
                          endpoints:
                          - {address: 127.0.0.1, ports: {grpc: %d}}
                        ---
                        apiVersion: networking.istio.io/v1
                        kind: DestinationRule
                        metadata: {name: echo}
                        spec:
                          host: echo
                          trafficPolicy:
                            tls: {mode: ISTIO_MUTUAL}
                        """.formatted(certs.resolve("default-frontend/cert-chain.pem"),
                        certs.resolve("default-frontend/key.pem"), certs.resolve("root-cert.pem"), inbound));
                try (Sidecar frontend = Sidecar.start(List.of(client), 1)) {
                    var cluster = frontend.mesh().config().clusters().stream()
                            .filter(c -> c.name().startsWith("outbound|9090||echo")).findFirst().orElseThrow();
                    assertEquals(UpstreamProtocol.HTTP2, cluster.protocol(), "GRPC ports are HTTP/2 clusters");
                    assertEquals(UpstreamTls.Mode.ISTIO_MUTUAL, cluster.tls().mode());

                    ManagedChannel grpc = NettyChannelBuilder.forAddress("127.0.0.1",
                            frontend.mesh().listenerPort("outbound")).usePlaintext()
                            .overrideAuthority("echo.default.svc.cluster.local:9090").build();
                    channel = grpc;

                    // Unary.
                    assertEquals("unary:ping", str(ClientCalls.blockingUnaryCall(grpc, UNARY, CallOptions.DEFAULT,
                            utf8("ping"))));
                    assertEquals("URI=" + FRONTEND, callers.poll(10, TimeUnit.SECONDS),
                            "the application sees the calling workload's SPIFFE identity");

                    // A large unary message, byte for byte: several DATA frames and TLS records each way.
                    byte[] big = new byte[1 << 20];
                    for (int i = 0; i < big.length; i++) {
                        big[i] = (byte) (i * 31 + (i >>> 9));
                    }
                    assertArrayEquals(big, ClientCalls.blockingUnaryCall(grpc, CHAT_AS_UNARY, CallOptions.DEFAULT, big));

                    // Server streaming: every message, in order.
                    Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(grpc, COUNT, CallOptions.DEFAULT,
                            utf8("300"));
                    List<String> got = new ArrayList<>();
                    it.forEachRemaining(b -> got.add(str(b)));
                    assertEquals(300, got.size());
                    for (int i = 0; i < got.size(); i++) {
                        assertEquals("message-" + i, got.get(i));
                    }

                    // Bidirectional streaming, full duplex: each reply arrives while the request stream is open.
                    BlockingQueue<Object> replies = new ArrayBlockingQueue<>(64);
                    StreamObserver<byte[]> requests = ClientCalls.asyncBidiStreamingCall(
                            grpc.newCall(CHAT, CallOptions.DEFAULT), collectInto(replies));
                    for (int i = 0; i < 10; i++) {
                        requests.onNext(utf8("m" + i));
                        Object r = replies.poll(10, TimeUnit.SECONDS);
                        assertTrue(r instanceof byte[], "reply " + i + ": " + r);
                        assertEquals("echo:m" + i, str((byte[]) r));
                    }
                    requests.onCompleted();
                    assertEquals("completed", replies.poll(10, TimeUnit.SECONDS), "grpc-status 0 at the end");

                    // An error status from the application, with its description and trailer, passes through.
                    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                            () -> ClientCalls.blockingUnaryCall(grpc, FAIL, CallOptions.DEFAULT, utf8("x")));
                    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e.toString());
                    assertEquals("not for you", e.getStatus().getDescription());
                    assertNotNull(e.getTrailers());
                    assertEquals("detail-x", e.getTrailers().get(ERROR_TRAILER));

                    // Every call the application received came from A, over mTLS.
                    List<String> seen = new ArrayList<>();
                    callers.drainTo(seen);
                    assertEquals(4, seen.size(), seen.toString()); // big unary, stream, chat, fail
                    assertTrue(seen.stream().allMatch(("URI=" + FRONTEND)::equals), seen.toString());

                    // B's access log: every request arrived on HTTP/2, which only ALPN can have chosen on a TLS
                    // port, from A's principal, with the gRPC status the application sent.
                    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(accessLog)
                            && Files.readAllLines(accessLog).size() >= 5);
                    List<String> lines = Files.readAllLines(accessLog);
                    assertTrue(lines.stream().allMatch(l -> l.contains("\"protocol\":\"HTTP/2\"")), String.join("\n", lines));
                    assertTrue(lines.stream().anyMatch(l -> l.contains("\"path\":\"/" + SERVICE + "/Unary\"")),
                            String.join("\n", lines));
                }
                // STRICT: the same port gives a plaintext client nothing.
                try (RawHttp plain = new RawHttp(inbound)) {
                    plain.send("GET / HTTP/1.1\r\nHost: echo\r\n\r\n");
                    assertTrue(plain.closedByPeer(), "a plaintext client gets no answer");
                }
            }
        } finally {
            if (channel != null) {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            app.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    // ---- the application ----

    private static final MethodDescriptor<byte[], byte[]> CHAT_AS_UNARY = CHAT.toBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).build();

    private static ServerServiceDefinition service() {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((req, out) -> {
                    out.onNext(utf8("unary:" + str(req)));
                    out.onCompleted();
                }))
                .addMethod(COUNT, ServerCalls.asyncServerStreamingCall((req, out) -> {
                    int n = Integer.parseInt(str(req));
                    for (int i = 0; i < n; i++) {
                        out.onNext(utf8("message-" + i));
                    }
                    out.onCompleted();
                }))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((req, out) -> {
                    Metadata t = new Metadata();
                    t.put(ERROR_TRAILER, "detail-" + str(req));
                    out.onError(Status.PERMISSION_DENIED.withDescription("not for you").asRuntimeException(t));
                }))
                .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall((StreamObserver<byte[]> out) -> new StreamObserver<byte[]>() {
                    @Override
                    public void onNext(byte[] value) {
                        out.onNext(value.length > 1024 ? value : utf8("echo:" + str(value)));
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .build();
    }

    /** Records the {@code x-forwarded-client-cert} each call arrives with ("none" without one). */
    private final class CallerRecorder implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            String xfcc = headers.get(XFCC);
            callers.add(xfcc == null ? "none" : xfcc);
            return next.startCall(call, headers);
        }
    }

    // ---- plumbing ----

    private static MethodDescriptor<byte[], byte[]> method(MethodDescriptor.MethodType type, String name) {
        return GrpcBytes.method(SERVICE, type, name);
    }
}
