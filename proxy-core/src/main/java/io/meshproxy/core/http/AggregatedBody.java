package io.meshproxy.core.http;

import java.nio.charset.StandardCharsets;

/** A whole body read into memory, with its trailers (empty when there were none). */
public record AggregatedBody(byte[] bytes, Headers trailers) {

    public String utf8() {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
