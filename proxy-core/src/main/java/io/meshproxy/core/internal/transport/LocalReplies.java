package io.meshproxy.core.internal.transport;

import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.Body;
import io.meshproxy.core.http.BodyTooLargeException;
import io.meshproxy.core.http.Headers;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.core.http.LocalReplyException;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns a failure of the chain into the local reply a client sees, recording flag and details. */
public final class LocalReplies {
    private static final Logger LOG = LoggerFactory.getLogger(LocalReplies.class);

    private LocalReplies() {}

    public static HttpResponse toResponse(RequestContext ctx, Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        int status;
        String details;
        if (t instanceof LocalReplyException lre) {
            status = lre.status();
            details = lre.details();
            if (lre.flag() != null) {
                ctx.addResponseFlag(lre.flag());
            }
        } else if (t instanceof BodyTooLargeException) {
            status = 413;
            details = "request_payload_too_large";
        } else {
            LOG.warn("request {} failed in the filter chain", ctx.requestId(), t);
            status = 500;
            details = "filter_chain_error";
        }
        ctx.responseCodeDetails(details);
        return of(status, details);
    }

    public static HttpResponse of(int status, String text) {
        Headers h = new Headers();
        h.set("content-type", "text/plain");
        return new HttpResponse(status, h, Body.of(text));
    }
}
