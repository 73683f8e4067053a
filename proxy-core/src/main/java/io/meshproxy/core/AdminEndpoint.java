package io.meshproxy.core;

import java.util.List;
import java.util.Map;

/**
 * An extra endpoint of the admin API, registered with {@link MeshProxy.Builder#adminEndpoint}: the telemetry
 * module serves {@code /stats/prometheus} and {@code /stats} this way, without the core knowing Micrometer.
 * Runs on the admin server's own thread (never an event loop), one request at a time.
 */
@FunctionalInterface
public interface AdminEndpoint {

    /** Answers a GET of this endpoint's path with the given query parameters. */
    Response handle(Map<String, List<String>> query);

    /** What the endpoint answers: a status, a content type and a text body. */
    record Response(int status, String contentType, String body) {
        public static Response text(String body) {
            return new Response(200, "text/plain; charset=utf-8", body);
        }
    }
}
