package io.meshproxy.telemetry.tracing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;

/**
 * Zipkin's span intake ({@code POST /api/v2/spans}, a JSON array, gzip or not) on a real socket, keeping what it
 * receives: the unit tests' stand-in for a Zipkin server (the integration test runs the real one). It can be made
 * to hold every request, so that the exporter's queue fills behind it.
 */
final class SpanCollector implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(2);
    private final ConcurrentLinkedQueue<JsonNode> spans = new ConcurrentLinkedQueue<>();
    private final AtomicInteger posts = new AtomicInteger();
    private volatile CountDownLatch hold;

    SpanCollector() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/api/v2/spans", this::intake);
        server.setExecutor(executor);
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/api/v2/spans";
    }

    /** Spans received so far. */
    List<JsonNode> spans() {
        return new ArrayList<>(spans);
    }

    int posts() {
        return posts.get();
    }

    /** From now on, requests wait for {@link #release()} before they are read. */
    void hold() {
        hold = new CountDownLatch(1);
    }

    void release() {
        CountDownLatch h = hold;
        hold = null;
        if (h != null) {
            h.countDown();
        }
    }

    private void intake(HttpExchange ex) throws IOException {
        try (ex) {
            posts.incrementAndGet();
            CountDownLatch h = hold;
            if (h != null) {
                h.await(30, TimeUnit.SECONDS);
            }
            InputStream in = ex.getRequestBody();
            if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("content-encoding"))) {
                in = new GZIPInputStream(in);
            }
            JsonNode array = JSON.readTree(in);
            array.forEach(spans::add);
            ex.sendResponseHeaders(202, -1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        release();
        server.stop(0);
        executor.shutdownNow();
    }
}
