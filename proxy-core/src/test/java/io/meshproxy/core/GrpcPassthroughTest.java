package io.meshproxy.core;

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
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingServerCall;
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
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.internal.transport.ObservedBody;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real grpc-java client talks to a real grpc-java server through a meshproxy listener whose cluster speaks
 * HTTP/2 (prior knowledge) to the server. Methods are defined without protoc, with a byte-array marshaller:
 * the proxy must carry gRPC's framing, its trailers (including trailers-only error responses), metadata,
 * streaming in both directions, flow control for large messages, and cancellation on deadline.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcPassthroughTest {
    private static final String SERVICE = "meshproxy.test.Echo";
    private static final Metadata.Key<String> RESPONSE_HEADER =
            Metadata.Key.of("x-response-header", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> CUSTOM_TRAILER =
            Metadata.Key.of("x-custom-trailer", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<byte[]> BINARY_TRAILER =
            Metadata.Key.of("x-custom-trailer-bin", Metadata.BINARY_BYTE_MARSHALLER);
    private static final Metadata.Key<String> REQUEST_HEADER =
            Metadata.Key.of("x-request-header", Metadata.ASCII_STRING_MARSHALLER);
    private static final int MAX_MESSAGE = 32 << 20;

    private static final MethodDescriptor<byte[], byte[]> UNARY = method(MethodDescriptor.MethodType.UNARY, "Unary");
    private static final MethodDescriptor<byte[], byte[]> COUNT = method(MethodDescriptor.MethodType.SERVER_STREAMING, "Count");
    private static final MethodDescriptor<byte[], byte[]> FAIL = method(MethodDescriptor.MethodType.UNARY, "Fail");
    private static final MethodDescriptor<byte[], byte[]> SLOW = method(MethodDescriptor.MethodType.UNARY, "Slow");
    private static final MethodDescriptor<byte[], byte[]> CONCAT = method(MethodDescriptor.MethodType.CLIENT_STREAMING, "Concat");
    private static final MethodDescriptor<byte[], byte[]> CHAT = method(MethodDescriptor.MethodType.BIDI_STREAMING, "Chat");
    private static final MethodDescriptor<byte[], byte[]> REJECT = method(MethodDescriptor.MethodType.CLIENT_STREAMING, "Reject");
    private static final MethodDescriptor<byte[], byte[]> STALL = method(MethodDescriptor.MethodType.CLIENT_STREAMING, "Stall");
    private static final MethodDescriptor<byte[], byte[]> FLOOD = method(MethodDescriptor.MethodType.SERVER_STREAMING, "Flood");
    private static final MethodDescriptor<byte[], byte[]> TICKS = method(MethodDescriptor.MethodType.SERVER_STREAMING, "Ticks");

    private static Server server;
    private static MeshProxy proxy;
    private static ManagedChannel channel;
    private static ScheduledExecutorService timer;
    private static final AtomicReference<String> lastRequestHeader = new AtomicReference<>();
    private static final BlockingQueue<String> slowCallCancelled = new ArrayBlockingQueue<>(16);
    private static final BlockingQueue<ServerCall<byte[], byte[]>> stalledCalls = new ArrayBlockingQueue<>(16);
    private static final BlockingQueue<String> floodStarted = new ArrayBlockingQueue<>(16);
    /** One entry each time a Flood call finds its transport not ready: the proxy stopped taking its data. */
    private static final BlockingQueue<String> floodBlocked = new ArrayBlockingQueue<>(1024);
    /** Request-body bytes of Stall calls the proxy has forwarded upstream. */
    private static final AtomicLong stallBytesForwarded = new AtomicLong();
    private static final BlockingQueue<String> ticksCancelled = new ArrayBlockingQueue<>(16);

    @BeforeAll
    static void start() throws Exception {
        startWith(port -> Configs.simple(UpstreamProtocol.HTTP2, port));
    }

    /**
     * Starts the gRPC server and a proxy configured by {@code config} (given the server's port); every test of
     * this class then runs through it. A subclass hides {@link #start()} to run them all on another route.
     */
    static void startWith(java.util.function.IntFunction<io.meshproxy.core.config.ProxyConfig> config)
            throws Exception {
        lastRequestHeader.set(null);
        slowCallCancelled.clear();
        stalledCalls.clear();
        floodStarted.clear();
        floodBlocked.clear();
        stallBytesForwarded.set(0);
        ticksCancelled.clear();
        timer = Executors.newSingleThreadScheduledExecutor();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .maxInboundMessageSize(MAX_MESSAGE)
                .addService(ServerInterceptors.intercept(service(), new MetadataInterceptor()))
                .build().start();
        proxy = MeshProxy.builder().config(config.apply(server.getPort()))
                .filter((ctx, req, next) -> {
                    if (req.path().endsWith("/Stall")) {
                        req.body(new ObservedBody(req.body(), new ObservedBody.Observer() {
                            @Override
                            public void ended(long bytes, boolean ok) {}

                            @Override
                            public void chunk(int length) {
                                stallBytesForwarded.addAndGet(length);
                            }
                        }));
                    }
                    return next.serve(ctx, req);
                })
                .build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", proxy.listenerPort("in")).usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (proxy != null) {
            proxy.close();
        }
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        timer.shutdownNow();
    }

    // ---- the tests ----

    @Test
    void unaryCallReturnsThePayloadWithHeadersAndTrailers() {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        Channel ch = ClientInterceptors.intercept(channel,
                MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
        Metadata sent = new Metadata();
        sent.put(REQUEST_HEADER, "from-client");
        ch = ClientInterceptors.intercept(ch, MetadataUtils.newAttachHeadersInterceptor(sent));

        byte[] reply = ClientCalls.blockingUnaryCall(ch, UNARY, CallOptions.DEFAULT, utf8("ping"));

        assertEquals("unary:ping", str(reply));
        assertEquals("from-client", lastRequestHeader.get(), "request metadata reaches the server");
        assertNotNull(headers.get(), "response headers arrive");
        assertEquals("header-value", headers.get().get(RESPONSE_HEADER));
        assertNotNull(trailers.get(), "trailers arrive");
        assertEquals("trailer-value", trailers.get().get(CUSTOM_TRAILER));
        assertArrayEquals(new byte[] {0, 1, 2, (byte) 0xff}, trailers.get().get(BINARY_TRAILER));
    }

    @Test
    void serverStreamingReturnsEveryMessageInOrder() {
        int n = 500;
        Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(channel, COUNT, CallOptions.DEFAULT,
                utf8(Integer.toString(n)));
        List<String> got = new ArrayList<>();
        it.forEachRemaining(b -> got.add(str(b)));
        assertEquals(n, got.size());
        for (int i = 0; i < n; i++) {
            assertEquals("message-" + i, got.get(i));
        }
    }

    @Test
    void errorStatusInATrailersOnlyResponseArrivesIntact() {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        Channel ch = ClientInterceptors.intercept(channel,
                MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(ch, FAIL, CallOptions.DEFAULT, utf8("x")));

        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), e.toString());
        assertEquals("nope", e.getStatus().getDescription());
        assertNotNull(e.getTrailers());
        assertEquals("error-trailer", e.getTrailers().get(CUSTOM_TRAILER));
    }

    @Test
    void clientStreamingCallSeesEveryMessage() throws Exception {
        BlockingQueue<Object> result = new ArrayBlockingQueue<>(4);
        StreamObserver<byte[]> requests = ClientCalls.asyncClientStreamingCall(
                channel.newCall(CONCAT, CallOptions.DEFAULT), collectInto(result));
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            requests.onNext(utf8(i + ","));
            expected.append(i).append(',');
        }
        requests.onCompleted();
        Object r = result.poll(20, TimeUnit.SECONDS);
        assertTrue(r instanceof byte[], "expected a reply, got " + r);
        assertEquals(expected.toString(), str((byte[]) r));
    }

    @Test
    void bidiStreamingIsFullDuplexThroughTheProxy() throws Exception {
        // Each reply must arrive before the next request is sent: the proxy may not wait for the end of the
        // request stream before it forwards the response stream.
        BlockingQueue<Object> replies = new ArrayBlockingQueue<>(64);
        StreamObserver<byte[]> requests = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(CHAT, CallOptions.DEFAULT), collectInto(replies));
        for (int i = 0; i < 20; i++) {
            requests.onNext(utf8("m" + i));
            Object r = replies.poll(10, TimeUnit.SECONDS);
            assertTrue(r instanceof byte[], "reply " + i + " should arrive while the request stream is open, got " + r);
            assertEquals("echo:m" + i, str((byte[]) r));
        }
        requests.onCompleted();
        assertEquals("completed", replies.poll(10, TimeUnit.SECONDS));
    }

    @Test
    void largeMessagesBothWaysPassFlowControl() {
        // 20 MiB each way: far beyond the 64 KiB default HTTP/2 windows and the proxy's 1 MiB stream window.
        byte[] big = new byte[20 << 20];
        TestUpstream.fillPattern(big, 7, big.length);
        byte[] reply = ClientCalls.blockingUnaryCall(channel, CHAT_AS_UNARY, CallOptions.DEFAULT, big);
        assertArrayEquals(big, reply);
    }

    @Test
    void manyConcurrentCallsOnOneConnection() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<String>> calls = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String msg = "c" + i;
                calls.add(pool.submit(() -> str(ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, utf8(msg)))));
            }
            for (int i = 0; i < calls.size(); i++) {
                assertEquals("unary:c" + i, calls.get(i).get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void deadlineExceededCancelsUpstreamAndTheProxyKeepsServing() throws Exception {
        slowCallCancelled.clear();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, SLOW,
                        CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), utf8("slow")));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.toString());

        // The client's RST_STREAM must travel on: the server sees its call cancelled (long before it would answer).
        assertEquals("slow", slowCallCancelled.poll(10, TimeUnit.SECONDS), "server call should be cancelled");

        for (int i = 0; i < 5; i++) {
            assertEquals("unary:after" + i,
                    str(ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, utf8("after" + i))));
        }
    }

    @Test
    void serverErrorWhileTheClientIsStillStreamingReachesTheClient() throws Exception {
        // The server answers (trailers-only error) before the request stream ends; the proxy must deliver the
        // status rather than a reset, while the client keeps sending.
        BlockingQueue<Object> result = new ArrayBlockingQueue<>(4);
        StreamObserver<byte[]> requests = ClientCalls.asyncClientStreamingCall(
                channel.newCall(REJECT, CallOptions.DEFAULT), collectInto(result));
        requests.onNext(utf8("first"));
        Object r = result.poll(10, TimeUnit.SECONDS);
        assertTrue(r instanceof StatusRuntimeException, "expected an error status, got " + r);
        Status st = ((StatusRuntimeException) r).getStatus();
        assertEquals(Status.Code.INVALID_ARGUMENT, st.getCode(), st.toString());
        assertEquals("rejected: first", st.getDescription());
        requests.onNext(utf8("ignored")); // a call already closed ignores further messages
        requests.onCompleted();
        assertEquals("unary:still-serving",
                str(ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, utf8("still-serving"))));
    }

    @Test
    void clientCancellingAServerStreamCancelsTheServerCall() throws Exception {
        ticksCancelled.clear();
        io.grpc.ClientCall<byte[], byte[]> call = channel.newCall(TICKS, CallOptions.DEFAULT);
        BlockingQueue<Object> ticks = new ArrayBlockingQueue<>(1024);
        ClientCalls.asyncServerStreamingCall(call, utf8("t"), collectInto(ticks));
        for (int i = 0; i < 3; i++) {
            Object tick = ticks.poll(10, TimeUnit.SECONDS);
            assertTrue(tick instanceof byte[], "expected a tick, got " + tick);
            assertEquals("tick-" + i, str((byte[]) tick));
        }
        call.cancel("enough", null);
        assertEquals("t", ticksCancelled.poll(10, TimeUnit.SECONDS), "server call should see the cancel");
    }

    @Test
    void stalledStreamsDoNotBlockOtherCallsOnTheSameConnection() throws Exception {
        // Two client-streaming calls whose server never asks for a message: their bytes fill the upstream's
        // windows, the proxy stops reading them downstream. HTTP/2 flow control must hold back only those two
        // streams; other calls on the same client connection (a gRPC channel has one) must keep flowing.
        stalledCalls.clear();
        stallBytesForwarded.set(0);
        List<io.grpc.ClientCall<byte[], byte[]>> stalled = new ArrayList<>();
        BlockingQueue<Object> ignored = new ArrayBlockingQueue<>(16);
        byte[] chunk = new byte[64 << 10];
        try {
            for (int c = 0; c < 2; c++) {
                io.grpc.ClientCall<byte[], byte[]> call = channel.newCall(STALL, CallOptions.DEFAULT);
                StreamObserver<byte[]> requests = ClientCalls.asyncClientStreamingCall(call, collectInto(ignored));
                for (int i = 0; i < 64; i++) { // 4 MiB each: more than every window and buffer on the way
                    requests.onNext(chunk);
                }
                stalled.add(call);
            }
            assertNotNull(stalledCalls.poll(10, TimeUnit.SECONDS));
            assertNotNull(stalledCalls.poll(10, TimeUnit.SECONDS));
            // The stalled streams have filled whatever windows they can once the proxy stops forwarding their
            // bytes: wait until the forwarded count is non-zero and no longer grows between two polls.
            long[] last = {-1};
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                long now = stallBytesForwarded.get();
                boolean settled = now > 0 && now == last[0];
                last[0] = now;
                return settled;
            });
            for (int i = 0; i < 3; i++) {
                byte[] payload = new byte[256 << 10]; // needs DATA frames, so needs connection window
                TestUpstream.fillPattern(payload, i, payload.length);
                byte[] echo = ClientCalls.blockingUnaryCall(channel, CHAT_AS_UNARY,
                        CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), payload);
                assertArrayEquals(payload, echo);
            }
        } finally {
            stalled.forEach(c -> c.cancel("test over", null));
        }
    }

    @Test
    void unreadResponseStreamsDoNotBlockOtherCallsOnTheSameConnection() throws Exception {
        // The mirror image: two server-streaming calls whose client never asks for a message. Their responses
        // fill the client's windows, the proxy stops reading them upstream; the upstream connection (shared by
        // every call from this event loop) must keep carrying the other calls' responses.
        floodStarted.clear();
        floodBlocked.clear();
        List<io.grpc.ClientCall<byte[], byte[]>> unread = new ArrayList<>();
        try {
            for (int c = 0; c < 2; c++) {
                io.grpc.ClientCall<byte[], byte[]> call = channel.newCall(FLOOD, CallOptions.DEFAULT);
                call.start(new io.grpc.ClientCall.Listener<byte[]>() {}, new Metadata());
                call.sendMessage(utf8("flood"));
                call.halfClose(); // and never call.request(): the responses stay unread
                unread.add(call);
            }
            assertNotNull(floodStarted.poll(10, TimeUnit.SECONDS));
            assertNotNull(floodStarted.poll(10, TimeUnit.SECONDS));
            // both floods are held back: their server transports report not ready (windows full on the way)
            assertNotNull(floodBlocked.poll(10, TimeUnit.SECONDS), "first flood never blocked");
            assertNotNull(floodBlocked.poll(10, TimeUnit.SECONDS), "second flood never blocked");
            for (int i = 0; i < 3; i++) {
                byte[] payload = new byte[256 << 10];
                TestUpstream.fillPattern(payload, i, payload.length);
                byte[] echo = ClientCalls.blockingUnaryCall(channel, CHAT_AS_UNARY,
                        CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), payload);
                assertArrayEquals(payload, echo);
            }
        } finally {
            unread.forEach(c -> c.cancel("test over", null));
        }
    }

    @Test
    void unreachableUpstreamIsUnavailable() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (MeshProxy p = MeshProxy.builder().config(Configs.simple(UpstreamProtocol.HTTP2, closedPort)).build().start()) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", p.listenerPort("in")).usePlaintext().build();
            try {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(ch, UNARY, CallOptions.DEFAULT, utf8("x")));
                // UNAVAILABLE is what gRPC clients retry on; the proxy's 503 must map to it.
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
                // ... in gRPC's own form, as Envoy answers, so the client sees why rather than "HTTP status code 503"
                assertTrue(e.getStatus().getDescription() != null
                        && e.getStatus().getDescription().contains("upstream"), e.toString());
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    // ---- the service ----

    /** The Chat method called as unary: one request message, one reply (the echo). */
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
                    t.put(CUSTOM_TRAILER, "error-trailer");
                    out.onError(Status.NOT_FOUND.withDescription("nope").asRuntimeException(t));
                }))
                .addMethod(SLOW, ServerCalls.asyncUnaryCall((req, out) -> {
                    ServerCallStreamObserver<byte[]> so = (ServerCallStreamObserver<byte[]>) out;
                    so.setOnCancelHandler(() -> slowCallCancelled.add(str(req)));
                    timer.schedule(() -> {
                        if (!so.isCancelled()) {
                            so.onNext(utf8("too late"));
                            so.onCompleted();
                        }
                    }, 30, TimeUnit.SECONDS);
                }))
                .addMethod(CONCAT, ServerCalls.asyncClientStreamingCall((StreamObserver<byte[]> out) -> new StreamObserver<byte[]>() {
                    final StringBuilder sb = new StringBuilder();

                    @Override
                    public void onNext(byte[] value) {
                        sb.append(str(value));
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                        out.onNext(utf8(sb.toString()));
                        out.onCompleted();
                    }
                }))
                .addMethod(REJECT, ServerCalls.asyncClientStreamingCall((StreamObserver<byte[]> out) -> new StreamObserver<byte[]>() {
                    boolean closed;

                    @Override
                    public void onNext(byte[] value) {
                        if (!closed) {
                            closed = true;
                            out.onError(Status.INVALID_ARGUMENT.withDescription("rejected: " + str(value)).asRuntimeException());
                        }
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                }))
                .addMethod(STALL, (call, headers) -> {
                    stalledCalls.add(call); // never call.request(): the messages stay unread
                    return new ServerCall.Listener<byte[]>() {};
                })
                .addMethod(FLOOD, ServerCalls.asyncServerStreamingCall((req, out) -> {
                    // 8 MiB in 64 KiB messages, sent only while the transport is ready (gRPC's backpressure).
                    ServerCallStreamObserver<byte[]> so = (ServerCallStreamObserver<byte[]>) out;
                    long[] sent = {0};
                    byte[] chunk = new byte[64 << 10];
                    so.setOnCancelHandler(() -> {});
                    so.setOnReadyHandler(() -> {
                        while (so.isReady() && !so.isCancelled() && sent[0] < (8 << 20)) {
                            so.onNext(chunk);
                            sent[0] += chunk.length;
                        }
                        if (!so.isReady() && !so.isCancelled()) {
                            floodBlocked.add(str(req));
                        }
                        if (sent[0] >= (8 << 20) && !so.isCancelled()) {
                            sent[0] = -1L << 40; // complete once
                            so.onCompleted();
                        }
                    });
                    floodStarted.add(str(req));
                }))
                .addMethod(TICKS, ServerCalls.asyncServerStreamingCall((req, out) -> {
                    ServerCallStreamObserver<byte[]> so = (ServerCallStreamObserver<byte[]>) out;
                    AtomicInteger n = new AtomicInteger();
                    java.util.concurrent.ScheduledFuture<?>[] task = new java.util.concurrent.ScheduledFuture<?>[1];
                    so.setOnCancelHandler(() -> {
                        task[0].cancel(false);
                        ticksCancelled.add(str(req));
                    });
                    task[0] = timer.scheduleAtFixedRate(() -> {
                        if (!so.isCancelled()) {
                            so.onNext(utf8("tick-" + n.getAndIncrement()));
                        }
                    }, 0, 20, TimeUnit.MILLISECONDS);
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

    /** Adds a response header and trailers to every call, and records the client's request header. */
    private static final class MetadataInterceptor implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            String h = headers.get(REQUEST_HEADER);
            if (h != null) {
                lastRequestHeader.set(h);
            }
            return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void sendHeaders(Metadata responseHeaders) {
                    responseHeaders.put(RESPONSE_HEADER, "header-value");
                    super.sendHeaders(responseHeaders);
                }

                @Override
                public void close(Status status, Metadata trailers) {
                    if (status.isOk()) {
                        trailers.put(CUSTOM_TRAILER, "trailer-value");
                        trailers.put(BINARY_TRAILER, new byte[] {0, 1, 2, (byte) 0xff});
                    }
                    super.close(status, trailers);
                }
            }, headers);
        }
    }

    // ---- plumbing ----

    private static MethodDescriptor<byte[], byte[]> method(MethodDescriptor.MethodType type, String name) {
        return GrpcBytes.method(SERVICE, type, name);
    }
}
