package io.meshproxy.core.http;

/** Requests everything and releases each chunk. */
final class DiscardingSubscriber implements BodySubscriber {
    @Override
    public void onSubscribe(BodySubscription subscription) {
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onData(HttpData data) {
        data.release();
    }

    @Override
    public void onComplete() {}

    @Override
    public void onError(Throwable cause) {}
}
