package io.meshproxy.core.testing;

import io.grpc.MethodDescriptor;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;

/**
 * gRPC with messages as raw bytes, for tests that drive real grpc-java clients and servers through the proxy
 * without protoc: method descriptors, the marshaller, a collecting observer and UTF-8 helpers.
 */
public final class GrpcBytes {
    /** Messages as they are: the bytes of a call's messages are the test's strings in UTF-8. */
    public static final MethodDescriptor.Marshaller<byte[]> MARSHALLER = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private GrpcBytes() {}

    /** The method {@code service/name} of {@code type}, with byte-array messages both ways. */
    public static MethodDescriptor<byte[], byte[]> method(String service, MethodDescriptor.MethodType type,
            String name) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, name))
                .setRequestMarshaller(MARSHALLER)
                .setResponseMarshaller(MARSHALLER)
                .build();
    }

    /** Puts each message, then "completed" or the error, into {@code q}. */
    public static StreamObserver<byte[]> collectInto(BlockingQueue<Object> q) {
        return new StreamObserver<>() {
            @Override
            public void onNext(byte[] value) {
                q.add(value);
            }

            @Override
            public void onError(Throwable t) {
                q.add(t);
            }

            @Override
            public void onCompleted() {
                q.add("completed");
            }
        };
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
