package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Request and response bodies cross the listener unchanged, for every downstream protocol (HTTP/1.1, h2c)
 * against every upstream protocol.
 */
class ListenerBodiesTest {

    static Stream<Arguments> protocols() {
        return Stream.of(
                Arguments.of(UpstreamProtocol.HTTP1, Version.HTTP_1_1),
                Arguments.of(UpstreamProtocol.HTTP1, Version.HTTP_2),
                Arguments.of(UpstreamProtocol.HTTP2, Version.HTTP_1_1),
                Arguments.of(UpstreamProtocol.HTTP2, Version.HTTP_2));
    }

    @ParameterizedTest(name = "{1} client -> {0} cluster")
    @MethodSource("protocols")
    void echoesBodiesByteForByteAndStreamsLargeDownloads(UpstreamProtocol upstream, Version version) throws Exception {
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(upstream, up)).eventLoopThreads(2).build().start()) {
            HttpClient client = HttpClient.newBuilder().version(version).connectTimeout(Duration.ofSeconds(5)).build();
            String base = "http://127.0.0.1:" + proxy.listenerPort("in");
            for (int size : new int[] {0, 1024, 1 << 20}) {
                byte[] body = new byte[size];
                ThreadLocalRandom.current().nextBytes(body);
                HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(base + "/echo"))
                                .timeout(Duration.ofSeconds(20))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, r.statusCode(), "status for " + size + " B");
                assertEquals(version, r.version(), "downstream protocol for " + size + " B");
                assertEquals(size, r.body().length, "echoed length");
                assertArrayEquals(body, r.body(), "echoed bytes for " + size + " B");
            }
            int n = 1 << 20;
            HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(URI.create(base + "/bytes/" + n))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            assertEquals(version, r.version());
            MessageDigest md = TestUpstream.sha256();
            long count = 0;
            try (InputStream in = r.body()) {
                byte[] buf = new byte[65536];
                int k;
                while ((k = in.read(buf)) != -1) {
                    md.update(buf, 0, k);
                    count += k;
                }
            }
            assertEquals(n, count);
            assertEquals(TestUpstream.patternSha256(n), HexFormat.of().formatHex(md.digest()));
        }
    }
}
