package io.meshproxy.core.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A downstream connection, its filters and the upstream connection it uses share one event loop: the
 * filter sees the request on some thread, and the upstream's response head arrives on that same thread.
 */
class EventLoopAffinityTest {

    @ParameterizedTest
    @EnumSource(UpstreamProtocol.class)
    void upstreamResponseArrivesOnTheRequestsEventLoop(UpstreamProtocol protocol) throws Exception {
        ConcurrentLinkedQueue<String> mismatches = new ConcurrentLinkedQueue<>();
        Set<String> requestThreads = Collections.synchronizedSet(new HashSet<>());
        AtomicInteger checked = new AtomicInteger();
        try (TestUpstream up = TestUpstream.start("a");
             MeshProxy proxy = MeshProxy.builder().config(Configs.simple(protocol, up)).eventLoopThreads(2)
                     .filter((ctx, req, next) -> {
                         Thread requestThread = Thread.currentThread();
                         requestThreads.add(requestThread.getName());
                         return next.serve(ctx, req).thenApply(resp -> {
                             if (Thread.currentThread() != requestThread) {
                                 mismatches.add(requestThread.getName() + " -> " + Thread.currentThread().getName());
                             }
                             checked.incrementAndGet();
                             return resp;
                         });
                     }).build().start()) {
            URI uri = URI.create("http://127.0.0.1:" + proxy.listenerPort("in") + "/x");
            // Separate clients open separate downstream connections, which spread over both loops.
            for (int c = 0; c < 6; c++) {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                for (int i = 0; i < 5; i++) {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode());
                }
            }
        }
        assertEquals(30, checked.get());
        assertTrue(mismatches.isEmpty(), "responses completed on another loop: " + mismatches);
        assertEquals(2, requestThreads.size(), "downstream connections used both event loops: " + requestThreads);
    }
}
