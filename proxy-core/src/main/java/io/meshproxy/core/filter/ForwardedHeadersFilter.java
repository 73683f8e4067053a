package io.meshproxy.core.filter;

import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import java.util.concurrent.CompletionStage;

/**
 * {@code x-forwarded-for}: the downstream peer's address is appended (comma-separated, as Envoy with
 * {@code use_remote_address}); {@code x-forwarded-proto}: set to the downstream connection's scheme when
 * the client did not send one. In-process requests have no peer and get neither.
 *
 * <p>{@code x-forwarded-client-cert} (Envoy's XFCC, as Istio's sidecars use it: SANITIZE_SET): whatever the
 * client sent is removed — a client cannot claim an identity — and on an mTLS connection whose peer has a
 * SPIFFE identity it is set to {@code URI=spiffe://<peer principal>}, so the application behind an inbound
 * listener sees who called.
 */
public final class ForwardedHeadersFilter implements HttpFilter {
    public static final String XFF = "x-forwarded-for";
    public static final String XFP = "x-forwarded-proto";
    public static final String XFCC = "x-forwarded-client-cert";

    @Override
    public CompletionStage<HttpResponse> filter(RequestContext ctx, HttpRequest request, HttpService next) {
        if (ctx.remoteAddress() != null && ctx.remoteAddress().getAddress() != null) {
            String peer = ctx.remoteAddress().getAddress().getHostAddress();
            String xff = request.headers().get(XFF);
            request.headers().set(XFF, xff == null || xff.isEmpty() ? peer : xff + ", " + peer);
            if (!request.headers().contains(XFP)) {
                request.headers().set(XFP, ctx.secure() ? "https" : "http");
            }
        }
        if (ctx.peerPrincipal() != null) {
            request.headers().set(XFCC, "URI=spiffe://" + ctx.peerPrincipal());
        } else if (request.headers().contains(XFCC)) {
            request.headers().remove(XFCC);
        }
        return next.serve(ctx, request);
    }
}
