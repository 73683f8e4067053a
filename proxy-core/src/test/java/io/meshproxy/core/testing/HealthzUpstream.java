package io.meshproxy.core.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/1.1 server on loopback (the JDK's {@code HttpServer}) whose health can be switched per server,
 * for active health checking and panic tests: {@code /healthz} answers {@link #healthzStatus(int)} (200 at
 * first); every other path answers 200 with the server's name, and every answer carries
 * {@code x-upstream: <name>}. {@link #stop()} closes the listening socket, so connects are refused.
 */
public final class HealthzUpstream implements AutoCloseable {
    private final String name;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "healthz-upstream");
        t.setDaemon(true);
        return t;
    });
    private final int port;
    private volatile int healthzStatus = 200;
    private final AtomicInteger healthChecks = new AtomicInteger();
    private final AtomicInteger failedHealthChecks = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private volatile boolean stopped;

    private HealthzUpstream(String name) throws IOException {
        this.name = name;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
        this.port = server.getAddress().getPort();
    }

    public static HealthzUpstream start(String name) throws IOException {
        return new HealthzUpstream(name);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            in.readAllBytes();
        }
        int status;
        if (ex.getRequestURI().getPath().equals("/healthz")) {
            healthChecks.incrementAndGet();
            status = healthzStatus;
            if (status != 200) {
                failedHealthChecks.incrementAndGet();
            }
        } else {
            requests.incrementAndGet();
            status = 200;
        }
        byte[] body = name.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("x-upstream", name);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    /** The status {@code /healthz} answers from now on. */
    public void healthzStatus(int status) {
        this.healthzStatus = status;
    }

    /** {@code /healthz} requests received so far. */
    public int healthChecks() {
        return healthChecks.get();
    }

    /** {@code /healthz} requests answered with something other than 200. */
    public int failedHealthChecks() {
        return failedHealthChecks.get();
    }

    /** Requests to other paths (the proxied traffic) received so far. */
    public int requestsReceived() {
        return requests.get();
    }

    /** Closes the listening socket and open exchanges: later connects are refused. */
    public void stop() {
        if (!stopped) {
            stopped = true;
            server.stop(0);
            executor.shutdownNow();
        }
    }

    @Override
    public void close() {
        stop();
    }
}
