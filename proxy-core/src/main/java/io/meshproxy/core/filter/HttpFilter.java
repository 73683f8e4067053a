package io.meshproxy.core.filter;

import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * A filter wraps the next service, Finagle- and Armeria-style. It may pass the request on
 * ({@code next.serve(ctx, req)}), change it first, change the response on the way back
 * ({@code .thenApply(...)}), delay it (compose with a future), or answer locally without calling next.
 *
 * <p>Runs on the request's event loop: never block. A filter that answers locally owns the request body
 * and must {@link io.meshproxy.core.http.Body#discard() discard} it.
 */
@FunctionalInterface
public interface HttpFilter {

    CompletionStage<HttpResponse> filter(RequestContext ctx, HttpRequest request, HttpService next);

    /** This filter in front of {@code next}. */
    default HttpService andThen(HttpService next) {
        return (ctx, req) -> filter(ctx, req, next);
    }

    /** {@code filters[0]} outermost, then {@code filters[1]}..., then {@code terminal}. */
    static HttpService chain(List<? extends HttpFilter> filters, HttpService terminal) {
        HttpService s = terminal;
        for (int i = filters.size() - 1; i >= 0; i--) {
            s = filters.get(i).andThen(s);
        }
        return s;
    }
}
