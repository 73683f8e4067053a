package io.meshproxy.core.http;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A mutable, case-insensitive multi-map of HTTP header fields (regular fields only; pseudo-headers live on
 * {@link HttpRequest} and {@link HttpResponse}). Names are compared case-insensitively and written
 * lower-case on HTTP/2. Not thread-safe: a request and its headers belong to one event loop.
 *
 * <p>Internally a thin wrapper over Netty's header map, so moving headers between the downstream and the
 * upstream copies nothing; Netty itself never appears in this API.
 */
public final class Headers implements Iterable<Map.Entry<String, String>> {

    static {
        io.meshproxy.core.internal.transport.HeadersBridge.install(new io.meshproxy.core.internal.transport.HeadersBridge.Access() {
            @Override
            public Headers wrap(io.netty.handler.codec.http.HttpHeaders headers) {
                return new Headers(headers);
            }

            @Override
            public io.netty.handler.codec.http.HttpHeaders unwrap(Headers headers) {
                return headers.delegate;
            }
        });
    }

    private final io.netty.handler.codec.http.HttpHeaders delegate;

    Headers(io.netty.handler.codec.http.HttpHeaders delegate) {
        this.delegate = delegate;
    }

    /** A new empty header map. */
    public Headers() {
        this(new DefaultHttpHeaders());
    }

    /** A new header map with the given name/value pairs, e.g. {@code Headers.of("a", "1", "b", "2")}. */
    public static Headers of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values must come in pairs");
        }
        Headers h = new Headers();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            h.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return h;
    }

    /** The first value of {@code name}, or null. */
    public String get(String name) {
        return delegate.get(name);
    }

    /** All values of {@code name}, in order; empty when absent. */
    public List<String> getAll(String name) {
        return delegate.getAll(name);
    }

    public boolean contains(String name) {
        return delegate.contains(name);
    }

    /** Replaces every value of {@code name} with {@code value}. */
    public Headers set(String name, String value) {
        delegate.set(name, value);
        return this;
    }

    /** Appends a value, keeping existing ones. */
    public Headers add(String name, String value) {
        delegate.add(name, value);
        return this;
    }

    /** Removes every value of {@code name}; returns whether any was present. */
    public boolean remove(String name) {
        boolean had = delegate.contains(name);
        delegate.remove(name);
        return had;
    }

    public int size() {
        return delegate.size();
    }

    public boolean isEmpty() {
        return delegate.isEmpty();
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return delegate.iteratorAsString();
    }

    /** A deep copy. */
    public Headers copy() {
        return new Headers(delegate.copy());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Headers[");
        boolean first = true;
        for (Map.Entry<String, String> e : this) {
            if (!first) {
                sb.append(", ");
            }
            sb.append(e.getKey()).append(": ").append(e.getValue());
            first = false;
        }
        return sb.append(']').toString();
    }
}
