package io.meshproxy.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Certificate rotation from files, as Envoy's file-based SDS and Kubernetes' projected volumes do it: the three
 * identity files of {@code spec.identity} ({@code certificateChain}, {@code privateKey}, {@code trustBundle}) are
 * polled (every second by default), and a changed set that loads and validates as a {@link WorkloadIdentity} is
 * handed to the listeners ({@link MeshTransportSecurity#rotate}): new handshakes present the new certificate,
 * connections already open carry on.
 *
 * <p>Polling, not {@code WatchService}: an agent that swaps a {@code ..data} symlink (Kubernetes secrets and
 * projected volumes) or writes in place on a file system without inotify is seen the same way. A change is what
 * the SHA-256 of the three files' contents says; reading three small files a second is cheap.
 *
 * <p>A changed set that does not validate (garbage PEM, a key that does not match the leaf, another trust domain,
 * an expired certificate, a chain that does not lead to the bundle) is not used: the current identity keeps
 * serving. An agent writes the files one after the other, so a set seen once may be half-written (the new
 * certificate, the old key); it is reported only when the same broken contents are seen on two polls in a row:
 * then one ERROR naming the file and the reason, and {@link #rejected()} counts it. The same broken contents are
 * not reported again.
 *
 * <p>Expiry warning: Istio's agent rotates a workload certificate at half its lifetime, so a serving certificate
 * with less than {@link Builder#expiryWarningFraction} of its lifetime left (default 20%) means rotation is not
 * happening; the watcher then logs a WARN, again every {@link Builder#expiryWarningInterval} (default 24 h, or
 * sooner: at every halving of the remaining time) until a new certificate arrives, and an ERROR once it has
 * expired. The clock is injectable. Thread-safe: polls run one at a time.
 */
public final class IdentityWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IdentityWatcher.class);

    private final Path certificateChain;
    private final Path privateKey;
    private final Path trustBundle;
    private final String trustDomain;
    private final Clock clock;
    private final Duration pollInterval;
    private final double expiryWarningFraction;
    private final Duration expiryWarningInterval;
    private final List<Consumer<WorkloadIdentity>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong rotations = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong expiryWarnings = new AtomicLong();
    private volatile WorkloadIdentity current;
    private volatile ScheduledFuture<?> polling;
    private volatile String lastRejection;
    // guarded by this
    private byte[] servingDigest;
    private byte[] lastSeenDigest;
    private byte[] reportedDigest;
    private Instant nextExpiryWarning = Instant.MIN;

    private IdentityWatcher(Builder b, WorkloadIdentity first, byte[] digest) {
        this.certificateChain = b.certificateChain;
        this.privateKey = b.privateKey;
        this.trustBundle = b.trustBundle;
        this.trustDomain = b.trustDomain;
        this.clock = b.clock;
        this.pollInterval = b.pollInterval;
        this.expiryWarningFraction = b.expiryWarningFraction;
        this.expiryWarningInterval = b.expiryWarningInterval;
        this.current = first;
        this.servingDigest = digest;
        this.lastSeenDigest = digest;
    }

    public static Builder builder(Path certificateChain, Path privateKey, Path trustBundle, String trustDomain) {
        return new Builder(certificateChain, privateKey, trustBundle, trustDomain);
    }

    /** The identity serving now: the files' latest valid contents. */
    public WorkloadIdentity current() {
        return current;
    }

    /** Called with every new identity, on the polling thread, after {@link #current()} has changed. */
    public IdentityWatcher addListener(Consumer<WorkloadIdentity> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /** New identities taken into use. */
    public long rotations() {
        return rotations.get();
    }

    /** Changed file sets refused (each distinct broken set once, after it stayed the same for a poll). */
    public long rejected() {
        return rejected.get();
    }

    /** The file and reason of the latest rejected set ({@code FILE: reason}), or null. */
    public String lastRejection() {
        return lastRejection;
    }

    /** Expiry warnings (and errors) logged. */
    public long expiryWarnings() {
        return expiryWarnings.get();
    }

    /** Polls every {@link Builder#pollInterval} on {@code scheduler} until {@link #close()}. */
    public IdentityWatcher start(ScheduledExecutorService scheduler) {
        long every = pollInterval.toMillis();
        polling = scheduler.scheduleWithFixedDelay(() -> {
            try {
                poll();
            } catch (RuntimeException e) {
                log.error("identity files {}: polling failed, the current certificate keeps serving", certificateChain, e);
            }
        }, every, every, TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * One look at the files (what the schedule calls): takes a changed valid set into use, reports a broken set
     * that stayed the same since the previous poll, and checks the serving certificate's expiry.
     *
     * @return whether a new identity was taken into use
     */
    public synchronized boolean poll() {
        boolean rotated = false;
        byte[] digest = digest();
        if (digest != null && !Arrays.equals(digest, servingDigest)) {
            boolean stable = Arrays.equals(digest, lastSeenDigest);
            try {
                WorkloadIdentity next = WorkloadIdentity.load(certificateChain, privateKey, trustBundle, trustDomain,
                        clock);
                WorkloadIdentity before = current;
                current = next;
                servingDigest = digest;
                reportedDigest = null;
                nextExpiryWarning = Instant.MIN;
                rotations.incrementAndGet();
                log.info("certificate rotated: {} serial {} valid until {} (was serial {}){}", next.spiffeId(),
                        next.leaf().getSerialNumber().toString(16), next.notAfter(),
                        before.leaf().getSerialNumber().toString(16),
                        next.trustBundle().equals(before.trustBundle()) ? "" : "; new trust bundle " + trustBundle);
                for (Consumer<WorkloadIdentity> l : listeners) {
                    l.accept(next);
                }
                rotated = true;
            } catch (InvalidIdentityException e) {
                if (!stable) {
                    log.debug("identity files changing ({}); checking again at the next poll", e.getMessage());
                } else if (!Arrays.equals(digest, reportedDigest)) {
                    reportedDigest = digest;
                    rejected.incrementAndGet();
                    lastRejection = e.getMessage();
                    log.error("certificate rotation rejected: {}: {}; still serving {} serial {} valid until {}",
                            e.file(), e.reason(), current.spiffeId(), current.leaf().getSerialNumber().toString(16),
                            current.notAfter());
                }
            }
        }
        lastSeenDigest = digest;
        checkExpiry();
        return rotated;
    }

    private void checkExpiry() {
        Instant now = clock.instant();
        WorkloadIdentity id = current;
        Instant notBefore = id.leaf().getNotBefore().toInstant();
        Instant notAfter = id.notAfter();
        Duration lifetime = Duration.between(notBefore, notAfter);
        Duration left = Duration.between(now, notAfter);
        if (now.isBefore(nextExpiryWarning)) return;
        String serial = id.leaf().getSerialNumber().toString(16);
        if (left.isNegative() || left.isZero()) {
            expiryWarnings.incrementAndGet();
            log.error("certificate {} serial {} of {} EXPIRED at {}: peers refuse new connections; no valid "
                    + "replacement has appeared in {}", certificateChain, serial, id.spiffeId(), notAfter,
                    certificateChain);
            nextExpiryWarning = now.plus(expiryWarningInterval);
        } else if (left.toMillis() < expiryWarningFraction * lifetime.toMillis()) {
            expiryWarnings.incrementAndGet();
            log.warn("certificate {} serial {} of {} expires at {} (in {}, {}% of its lifetime left); Istio's agent "
                    + "rotates at 50%: is the certificate provider writing new files?", certificateChain, serial,
                    id.spiffeId(), notAfter, left.withNanos(0), Math.round(100.0 * left.toMillis() / lifetime.toMillis()));
            Duration half = left.dividedBy(2);
            nextExpiryWarning = now.plus(half.compareTo(expiryWarningInterval) < 0 ? half : expiryWarningInterval);
        }
    }

    private byte[] digest() {
        return digestOf(certificateChain, privateKey, trustBundle);
    }

    /** SHA-256 over the three files (length-prefixed), or null when one cannot be read right now. */
    private static byte[] digestOf(Path certificateChain, Path privateKey, Path trustBundle) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path p : new Path[] {certificateChain, privateKey, trustBundle}) {
                byte[] bytes = Files.readAllBytes(p);
                md.update(Integer.toString(bytes.length).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                md.update((byte) 0);
                md.update(bytes);
            }
            return md.digest();
        } catch (IOException e) {
            // A file being swapped (or missing for a moment): same as a half-written set, looked at again next poll.
            log.debug("identity files not readable right now: {}", e.toString());
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stops polling (the current identity stays in use). */
    @Override
    public void close() {
        ScheduledFuture<?> f = polling;
        if (f != null) f.cancel(false);
    }

    @Override
    public String toString() {
        return "IdentityWatcher[" + certificateChain + ", serving " + current + "]";
    }

    /** Which files, how often, and when to warn of expiry. */
    public static final class Builder {
        private final Path certificateChain;
        private final Path privateKey;
        private final Path trustBundle;
        private final String trustDomain;
        private Clock clock = Clock.systemUTC();
        private Duration pollInterval = Duration.ofSeconds(1);
        private double expiryWarningFraction = 0.2;
        private Duration expiryWarningInterval = Duration.ofHours(24);

        private Builder(Path certificateChain, Path privateKey, Path trustBundle, String trustDomain) {
            this.certificateChain = Objects.requireNonNull(certificateChain, "certificateChain");
            this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
            this.trustBundle = Objects.requireNonNull(trustBundle, "trustBundle");
            this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        }

        /** "Now" for validity checks and expiry warnings. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How often the files are read (default 1 s; at least 10 ms). */
        public Builder pollInterval(Duration interval) {
            if (interval.toMillis() < 10) throw new IllegalArgumentException("pollInterval must be at least 10ms");
            this.pollInterval = interval;
            return this;
        }

        /** Warn when less than this share of the certificate's lifetime is left (default 0.2; 0 turns it off). */
        public Builder expiryWarningFraction(double fraction) {
            if (!(fraction >= 0 && fraction < 1)) {
                throw new IllegalArgumentException("expiryWarningFraction must be in [0, 1), was " + fraction);
            }
            this.expiryWarningFraction = fraction;
            return this;
        }

        /** The longest time between two expiry warnings of the same certificate (default 24 h). */
        public Builder expiryWarningInterval(Duration interval) {
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("expiryWarningInterval must be positive");
            }
            this.expiryWarningInterval = interval;
            return this;
        }

        /**
         * Loads the files as they are now; the watcher serves that identity until a valid change.
         *
         * @throws InvalidIdentityException the files do not make a valid identity (nothing to serve)
         */
        public IdentityWatcher build() throws InvalidIdentityException {
            byte[] before = digestOf(certificateChain, privateKey, trustBundle);
            WorkloadIdentity first = WorkloadIdentity.load(certificateChain, privateKey, trustBundle, trustDomain, clock);
            byte[] after = digestOf(certificateChain, privateKey, trustBundle);
            // Files changed while loading: no digest for what serves, so the first poll loads them again.
            IdentityWatcher w = new IdentityWatcher(this, first, Arrays.equals(before, after) ? after : null);
            synchronized (w) {
                w.checkExpiry();
            }
            return w;
        }
    }
}
