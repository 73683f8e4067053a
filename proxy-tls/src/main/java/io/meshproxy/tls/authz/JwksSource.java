package io.meshproxy.tls.authz;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The keys of one issuer (a JSON Web Key Set), parsed once into ready signature verifiers.
 *
 * <ul>
 *   <li>{@link #inline(String)} and {@link #file(Path)} are read at construction (config time, never on an event
 *       loop); a malformed set fails construction.</li>
 *   <li>{@link #remote(URI, Duration)} is fetched asynchronously by the JDK {@code HttpClient} (its own
 *       threads) and re-fetched every refresh interval; a failed refresh keeps the last good keys. A request
 *       arriving before the first fetch finishes <b>waits for it without blocking</b> (its continuation is
 *       chained on the fetch's future and resumes on the request's event loop), as Envoy's remote JWKS does; if
 *       that first fetch fails (or times out after {@code fetchTimeout}), the request gets 401
 *       {@code Jwks remote fetch is failed}, and the next request starts a new fetch.</li>
 * </ul>
 * {@link #close()} stops the refresh.
 */
public final class JwksSource implements AutoCloseable {
    /** Largest JWKS document accepted from a remote URI. */
    static final int MAX_JWKS_BYTES = 1 << 20;

    private final URI uri;
    private final HttpClient client;
    private final Duration fetchTimeout;
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    private final ScheduledFuture<?> refreshTask;
    private volatile CompletableFuture<Keys> keys;
    /** Successful and failed remote fetches. */
    public final LongAdder fetchSuccess = new LongAdder();
    public final LongAdder fetchFailed = new LongAdder();

    private JwksSource(Keys keys) {
        this.uri = null;
        this.client = null;
        this.fetchTimeout = null;
        this.scheduler = null;
        this.ownsScheduler = false;
        this.refreshTask = null;
        this.keys = CompletableFuture.completedFuture(keys);
    }

    private JwksSource(URI uri, HttpClient client, Duration refreshInterval, Duration fetchTimeout,
            ScheduledExecutorService scheduler) {
        this.uri = uri;
        this.client = client;
        this.fetchTimeout = fetchTimeout;
        this.ownsScheduler = scheduler == null;
        this.scheduler = scheduler != null ? scheduler : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "meshproxy-jwks-refresh");
            t.setDaemon(true);
            return t;
        });
        this.keys = fetch();
        long every = refreshInterval.toNanos();
        this.refreshTask = this.scheduler.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.NANOSECONDS);
    }

    /** Istio's {@code jwks}: the key set as inline JSON. */
    public static JwksSource inline(String json) {
        return new JwksSource(Keys.parse(json));
    }

    /** A key set read from a JSON file now. */
    public static JwksSource file(Path file) {
        try {
            return new JwksSource(Keys.parse(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read JWKS file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Istio's {@code jwksUri}: fetched now and every {@code refreshInterval} (Istio's default is 20 minutes). */
    public static JwksSource remote(URI uri, Duration refreshInterval) {
        return remote(uri, refreshInterval, Duration.ofSeconds(5), HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NORMAL).build(), null);
    }

    /** @param scheduler runs the refresh; null for a daemon thread of this source's own */
    public static JwksSource remote(URI uri, Duration refreshInterval, Duration fetchTimeout, HttpClient client,
            ScheduledExecutorService scheduler) {
        String scheme = uri.getScheme();
        if (!"https".equalsIgnoreCase(scheme) && !"http".equalsIgnoreCase(scheme)) {
            throw new IllegalArgumentException("jwksUri must be http or https: " + uri);
        }
        if (refreshInterval.isNegative() || refreshInterval.isZero()) {
            throw new IllegalArgumentException("the JWKS refresh interval must be positive");
        }
        return new JwksSource(uri, client, refreshInterval, fetchTimeout, scheduler);
    }

    /** The current keys: already complete except while a remote set's first fetch is under way. */
    CompletableFuture<Keys> keys() {
        CompletableFuture<Keys> k = keys;
        if (uri != null && k.isCompletedExceptionally()) {
            synchronized (this) { // only after a failed first fetch: start another, once
                if (keys == k) {
                    keys = fetch();
                }
                return keys;
            }
        }
        return k;
    }

    /** Fetches a remote set again now; the returned future completes when the new keys (or old ones) are in. */
    public CompletableFuture<Void> refresh() {
        if (uri == null) {
            return CompletableFuture.completedFuture(null);
        }
        return fetch().handle((fresh, error) -> {
            if (error == null) {
                keys = CompletableFuture.completedFuture(fresh);
            } else if (keys.isCompletedExceptionally()) {
                keys = CompletableFuture.failedFuture(error);
            }
            return null;
        });
    }

    private CompletableFuture<Keys> fetch() {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(fetchTimeout).header("accept", "application/json")
                .GET().build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).thenApply(r -> {
            if (r.statusCode() != 200) {
                throw new IllegalStateException("JWKS fetch from " + uri + " returned " + r.statusCode());
            }
            if (r.body().length > MAX_JWKS_BYTES) {
                throw new IllegalStateException("JWKS from " + uri + " is larger than " + MAX_JWKS_BYTES + " bytes");
            }
            return Keys.parse(new String(r.body(), StandardCharsets.UTF_8));
        }).whenComplete((k, e) -> (e == null ? fetchSuccess : fetchFailed).increment());
    }

    @Override
    public void close() {
        if (refreshTask != null) {
            refreshTask.cancel(false);
        }
        if (ownsScheduler) {
            scheduler.shutdownNow();
        }
    }

    /** A parsed key set: for each signing key, its key id, its algorithm (if the JWK names one) and a verifier. */
    static final class Keys {
        record Entry(String kid, JWSAlgorithm alg, JWSVerifier verifier) {}

        final List<Entry> entries;

        private Keys(List<Entry> entries) {
            this.entries = entries;
        }

        static Keys parse(String json) {
            JWKSet set;
            try {
                set = JWKSet.parse(json);
            } catch (java.text.ParseException e) {
                throw new IllegalArgumentException("malformed JWKS: " + e.getMessage(), e);
            }
            List<Entry> entries = new ArrayList<>();
            for (JWK jwk : set.getKeys()) {
                if (jwk.getKeyUse() != null && jwk.getKeyUse() != KeyUse.SIGNATURE) {
                    continue;
                }
                try {
                    JWSVerifier v;
                    if (jwk instanceof RSAKey rsa) {
                        v = new RSASSAVerifier(rsa);
                    } else if (jwk instanceof ECKey ec) {
                        v = new ECDSAVerifier(ec);
                    } else if (jwk instanceof OctetSequenceKey oct) {
                        v = new MACVerifier(oct);
                    } else {
                        continue; // OKP (EdDSA) keys are not supported
                    }
                    JWSAlgorithm alg = jwk.getAlgorithm() == null ? null : JWSAlgorithm.parse(jwk.getAlgorithm().getName());
                    entries.add(new Entry(jwk.getKeyID(), alg, v));
                } catch (JOSEException e) {
                    throw new IllegalArgumentException("JWKS key " + jwk.getKeyID() + ": " + e.getMessage(), e);
                }
            }
            return new Keys(List.copyOf(entries));
        }

        /** Verifiers for a token's key id (any key when the token names none) and algorithm. */
        List<JWSVerifier> verifiersFor(String kid, JWSAlgorithm alg) {
            List<JWSVerifier> out = new ArrayList<>(1);
            for (Entry e : entries) {
                if ((kid == null || kid.equals(e.kid())) && (e.alg() == null || e.alg().equals(alg))
                        && e.verifier().supportedJWSAlgorithms().contains(alg)) {
                    out.add(e.verifier());
                }
            }
            return out;
        }
    }
}
