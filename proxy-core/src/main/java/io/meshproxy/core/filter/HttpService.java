package io.meshproxy.core.filter;

import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.util.concurrent.CompletionStage;

/**
 * Something that answers a request, asynchronously: the router, an in-process application handler, or a
 * filter chain ending in one of those. Called on the request's event loop; must not block it.
 * Complete exceptionally with {@link io.meshproxy.core.http.LocalReplyException} to choose the local reply.
 */
@FunctionalInterface
public interface HttpService {

    CompletionStage<HttpResponse> serve(RequestContext ctx, HttpRequest request);
}
