package io.meshproxy.sidecar;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo's application: versions of a {@code reviews} service, each a plain HTTP/1.1 server on a loopback
 * ephemeral port — the JDK's own {@code com.sun.net.httpserver}, not meshproxy, because an application behind a
 * sidecar is not a proxy: it trusts the {@code x-forwarded-client-cert} its sidecar sets (a meshproxy listener
 * would strip it, as Envoy's SANITIZE_SET does for an untrusted downstream).
 *
 * <p>Each answers JSON naming itself, its rating and its caller's peer principal (the {@code URI} of the nearest
 * XFCC element, JSON null without one), with {@code x-served-by: reviews-VERSION}. A {@code delay_ms=N} query
 * parameter (at most {@value DemoMesh#MAX_DELAY_MS} ms) delays the answer without holding a thread, to watch a
 * drain let it finish. Bounded: two handler threads, at most {@value #MAX_QUEUED} requests waiting for them.
 */
final class DemoServices implements AutoCloseable {
    /** Requests waiting for a handler thread, at most; beyond it the accepting thread serves them itself. */
    static final int MAX_QUEUED = 1024;

    private final Map<String, HttpServer> servers = new LinkedHashMap<>();
    private final Map<String, AtomicReference<String>> lastPeers = new LinkedHashMap<>();
    private final ThreadPoolExecutor handlers;
    private final ScheduledExecutorService delays;

    private DemoServices() {
        AtomicInteger n = new AtomicInteger();
        handlers = new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(MAX_QUEUED),
                r -> daemon(r, "demo-reviews-" + n.incrementAndGet()), new ThreadPoolExecutor.CallerRunsPolicy());
        delays = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "demo-reviews-delays"));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Starts one server per {@code version -> rating} on 127.0.0.1 and an ephemeral port. */
    static DemoServices start(Map<String, String> ratings) {
        DemoServices s = new DemoServices();
        try {
            for (Map.Entry<String, String> e : ratings.entrySet()) {
                s.add(e.getKey(), e.getValue());
            }
            return s;
        } catch (IOException e) {
            s.close();
            throw new UncheckedIOException("cannot start the demo's reviews services", e);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * The JDK server writes a response's head and body in two writes; with Nagle's algorithm on, the body waits for
     * the proxy's delayed ACK (40 ms on Linux) on every keep-alive request. {@code sun.net.httpserver.nodelay} is
     * read once, when the first server is created: set it before, unless the user set it.
     */
    static {
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private void add(String version, String rating) throws IOException {
        AtomicReference<String> lastPeer = new AtomicReference<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/", exchange -> serve(exchange, version, rating, lastPeer));
        server.setExecutor(handlers);
        server.start();
        servers.put(version, server);
        lastPeers.put(version, lastPeer);
    }

    private void serve(HttpExchange exchange, String version, String rating, AtomicReference<String> lastPeer)
            throws IOException {
        try (InputStream body = exchange.getRequestBody()) {
            body.transferTo(OutputStream.nullOutputStream());
        }
        String peer = xfccUri(exchange.getRequestHeaders().getFirst("x-forwarded-client-cert"));
        if (peer != null) {
            lastPeer.set(peer);
        }
        String path = exchange.getRequestURI().getRawPath()
                + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());
        String requestId = exchange.getRequestHeaders().getFirst("x-request-id");
        byte[] json = ("{\"service\":\"reviews\",\"version\":\"" + version + "\",\"path\":\"" + jsonEscape(path)
                + "\",\"rating\":\"" + rating + "\",\"peer\":" + jsonString(peer)
                + ",\"requestId\":" + jsonString(requestId) + "}\n").getBytes(StandardCharsets.UTF_8);
        long delay = delayMillis(path);
        if (delay <= 0) {
            respond(exchange, version, json);
        } else {
            delays.schedule(() -> respond(exchange, version, json), delay, TimeUnit.MILLISECONDS);
        }
    }

    private static void respond(HttpExchange exchange, String version, byte[] json) {
        try {
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.getResponseHeaders().set("x-served-by", "reviews-" + version);
            exchange.sendResponseHeaders(200, json.length);
            exchange.getResponseBody().write(json);
        } catch (IOException e) {
            // The caller went away (a proxy timeout, a reset): nothing to answer.
        } finally {
            exchange.close();
        }
    }

    /** The port service {@code version} listens on. */
    int port(String version) {
        HttpServer s = servers.get(version);
        if (s == null) {
            throw new IllegalArgumentException("no demo service version '" + version + "'");
        }
        return s.getAddress().getPort();
    }

    /** The peer principal service {@code version} last received in {@code x-forwarded-client-cert}, or null. */
    String lastPeer(String version) {
        AtomicReference<String> p = lastPeers.get(version);
        if (p == null) {
            throw new IllegalArgumentException("no demo service version '" + version + "'");
        }
        return p.get();
    }

    /** Stops the servers (after the proxy has drained, so nothing is in flight), then their threads. */
    @Override
    public void close() {
        servers.values().forEach(s -> s.stop(0));
        delays.shutdownNow();
        handlers.shutdownNow();
    }

    private static final Pattern DELAY = Pattern.compile("[?&]delay_ms=(\\d{1,9})(?:&|$)");

    static long delayMillis(String path) {
        Matcher m = DELAY.matcher(path);
        return m.find() ? Math.min(Long.parseLong(m.group(1)), DemoMesh.MAX_DELAY_MS) : 0;
    }

    /**
     * The {@code URI} of the last element of an {@code x-forwarded-client-cert} value (elements are separated by
     * {@code ,}, their {@code key=value} pairs by {@code ;}; the last element is the nearest hop), or null.
     */
    static String xfccUri(String xfcc) {
        if (xfcc == null) {
            return null;
        }
        String element = xfcc.substring(xfcc.lastIndexOf(',') + 1);
        for (String pair : element.split(";")) {
            String kv = pair.strip();
            if (kv.regionMatches(true, 0, "URI=", 0, 4)) {
                String uri = kv.substring(4);
                return uri.isEmpty() ? null : uri;
            }
        }
        return null;
    }

    private static String jsonString(String s) {
        return s == null ? "null" : "\"" + jsonEscape(s) + "\"";
    }

    private static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
