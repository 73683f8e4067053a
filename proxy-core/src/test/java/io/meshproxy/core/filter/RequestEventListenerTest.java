package io.meshproxy.core.filter;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.RetryOn;
import io.meshproxy.core.config.RetryPolicy;
import io.meshproxy.core.config.UpstreamProtocol;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.resilience.Outcome;
import io.meshproxy.core.testing.Configs;
import io.meshproxy.core.testing.RawHttp;
import io.meshproxy.core.testing.TestUpstream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The per-request event listener sees every step, in order, and the connection's bytes. */
class RequestEventListenerTest {

    static final class Recorder implements RequestEventListener {
        final List<String> events = new CopyOnWriteArrayList<>();

        @Override
        public void onRequestStart(RequestContext ctx, HttpRequest request) {
            ctx.eventState("state-of-" + request.path());
            events.add("start " + request.path());
        }

        @Override
        public void onUpstreamRequest(RequestContext ctx, HttpRequest request, String cluster, String host, int attempt) {
            request.headers().set("x-injected", "yes");
            events.add("upstream " + cluster + " attempt " + attempt);
        }

        @Override
        public void onRetry(RequestContext ctx, int attempt, Outcome outcome) {
            events.add("retry " + attempt + " " + outcome);
        }

        @Override
        public void onResponseHeaders(RequestContext ctx, HttpResponse response) {
            events.add("headers " + response.status());
        }

        @Override
        public void onRequestEnd(RequestContext ctx, RequestLog log) {
            events.add("end " + log.responseCode() + " " + ctx.eventState());
        }

        @Override
        public void onConnectionOpen(String listenerName, InetSocketAddress remote, InetSocketAddress local) {
            events.add("open " + listenerName);
        }

        @Override
        public void onConnectionClose(String listenerName, InetSocketAddress remote, InetSocketAddress local,
                long bytesReceived, long bytesSent) {
            events.add("close " + listenerName + " " + (bytesReceived > 0) + " " + (bytesSent > 0));
        }
    }

    @Test
    void everyStepOfARetriedRequestInOrder() throws Exception {
        Recorder r = new Recorder();
        try (TestUpstream bad = TestUpstream.start("bad").answerEverythingWith(503);
             TestUpstream good = TestUpstream.start("good");
             MeshProxy proxy = MeshProxy.builder().eventListener(r)
                     .config(io.meshproxy.core.internal.transport.RetryTestSupport.config(
                             RetryPolicy.builder().numRetries(1).retryOn(RetryOn.FIVE_XX).build(),
                             UpstreamProtocol.HTTP1, bad.port(), good.port()))
                     .eventLoopThreads(1).build().start()) {
            try (RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
                // round robin alternates: of two requests at least one meets the bad endpoint first and is retried
                for (int i = 0; i < 2; i++) {
                    RawHttp.Response resp = c.send("GET /headers HTTP/1.1\r\nHost: b\r\n\r\n").read();
                    assertEquals(200, resp.status());
                    assertTrue(resp.text().contains("x-injected: yes"), "the listener may change upstream headers");
                }
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> r.events.contains("close in true true"));
            List<String> retried = List.of("start /headers", "upstream backend attempt 1", "retry 1 GATEWAY_ERROR",
                    "upstream backend attempt 2", "headers 200", "end 200 state-of-/headers");
            List<String> direct = List.of("start /headers", "upstream backend attempt 1", "headers 200",
                    "end 200 state-of-/headers");
            List<String> inner = r.events.subList(1, r.events.size() - 1);
            List<String> one = new java.util.ArrayList<>(retried);
            one.addAll(direct);
            List<String> other = new java.util.ArrayList<>(direct);
            other.addAll(retried);
            assertEquals("open in", r.events.get(0));
            List<String> both = new java.util.ArrayList<>(retried);
            both.addAll(retried);
            assertTrue(inner.equals(one) || inner.equals(other) || inner.equals(both), "events in order: " + r.events);
            assertEquals("close in true true", r.events.get(r.events.size() - 1));
        }
    }

    @Test
    void aLocalReplySkipsTheUpstreamEvents() throws Exception {
        Recorder r = new Recorder();
        try (MeshProxy proxy = MeshProxy.builder().eventListener(r)
                .config(Configs.simple(UpstreamProtocol.HTTP1, new int[0])).build().start();
             RawHttp c = new RawHttp(proxy.listenerPort("in"))) {
            assertEquals(503, c.send("GET /x HTTP/1.1\r\nHost: b\r\n\r\n").read().status(), "no endpoint: UH");
            await().atMost(Duration.ofSeconds(5)).until(() -> r.events.contains("end 503 state-of-/x"));
            assertEquals(List.of("open in", "start /x", "headers 503", "end 503 state-of-/x"), r.events);
        }
    }
}
