package io.meshproxy.core.http;

import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;

final class AggregatingSubscriber implements BodySubscriber {
    private final int maxBytes;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final CompletableFuture<AggregatedBody> result = new CompletableFuture<>();
    private Headers trailers = new Headers();
    private BodySubscription subscription;

    AggregatingSubscriber(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    CompletableFuture<AggregatedBody> result() {
        return result;
    }

    @Override
    public void onSubscribe(BodySubscription s) {
        this.subscription = s;
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onData(HttpData data) {
        try {
            if (result.isDone()) {
                return;
            }
            if ((long) out.size() + data.length() > maxBytes) {
                result.completeExceptionally(new BodyTooLargeException(maxBytes));
                subscription.cancel();
                return;
            }
            byte[] b = data.toByteArray();
            out.write(b, 0, b.length);
        } finally {
            data.release();
        }
    }

    @Override
    public void onTrailers(Headers t) {
        trailers = t;
    }

    @Override
    public void onComplete() {
        result.complete(new AggregatedBody(out.toByteArray(), trailers));
    }

    @Override
    public void onError(Throwable cause) {
        result.completeExceptionally(cause);
    }
}
