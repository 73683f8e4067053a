package io.meshproxy.sidecar;

import io.meshproxy.config.InboundSecurity;
import io.meshproxy.config.ListenerRole;
import io.meshproxy.config.LoadedConfig;
import io.meshproxy.core.filter.HttpFilter;
import io.meshproxy.core.filter.HttpService;
import io.meshproxy.core.filter.RequestContext;
import io.meshproxy.core.http.HttpRequest;
import io.meshproxy.core.http.HttpResponse;
import io.meshproxy.tls.authz.AuthorizationEngine;
import io.meshproxy.tls.authz.AuthorizationFilter;
import io.meshproxy.tls.authz.JwksSource;
import io.meshproxy.tls.authz.JwtAuthenticationFilter;
import io.meshproxy.tls.authz.JwtRule;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Envoy's {@code jwt_authn} and {@code rbac} HTTP filters do on an Istio sidecar's inbound listeners, from the
 * RequestAuthentications and AuthorizationPolicies of {@link LoadedConfig#inboundSecurity()}: a request on an
 * INBOUND listener has its JWT checked (invalid: 401), then the policies decide (denied: 403
 * {@code RBAC: access denied}, response code details {@code rbac_access_denied_matched_policy[...]}). Requests on
 * OUTBOUND listeners and in-process calls pass untouched, as do all requests while nothing applies.
 *
 * <p>The filters live in an immutable snapshot read from a volatile field: {@link #update(LoadedConfig)} (a
 * configuration reload) builds the next one and swaps it in; a request keeps the snapshot it started with, and
 * the remote key sets of the replaced snapshot are closed. The counters ({@code rbac.allowed}, {@code rbac.denied},
 * {@code jwt_authn.allowed}, {@code jwt_authn.denied}) span snapshots.
 */
final class InboundAuthorization implements HttpFilter, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InboundAuthorization.class);

    /** Envoy's {@code rbac.allowed} and {@code rbac.denied} of the inbound listeners. */
    final LongAdder rbacAllowed = new LongAdder();
    final LongAdder rbacDenied = new LongAdder();
    /** Envoy's {@code jwt_authn.allowed} (with or without a token) and {@code jwt_authn.denied}. */
    final LongAdder jwtAllowed = new LongAdder();
    final LongAdder jwtDenied = new LongAdder();

    private final HttpClient jwksClient;
    private final ScheduledExecutorService jwksRefresh;
    private volatile Snapshot snapshot = Snapshot.EMPTY;
    private boolean closed;

    /**
     * One configuration's checks.
     *
     * @param inbound the names of the INBOUND listeners
     * @param chain JWT authentication then authorization, or one of them, or null when nothing applies
     * @param keySets the JWT rules' key sets, closed when the snapshot is replaced
     */
    private record Snapshot(Set<String> inbound, HttpFilter chain, List<JwksSource> keySets) {
        static final Snapshot EMPTY = new Snapshot(Set.of(), null, List.of());
    }

    InboundAuthorization() {
        this.jwksClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        this.jwksRefresh = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "meshproxy-jwks-refresh");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The checks of {@code loaded}, built but not in force yet: {@link #install} puts them in force, or
     * {@link #discard} drops them (a reload that failed after them). Throws when a check cannot be built.
     */
    static final class Prepared {
        private final Snapshot snapshot;
        private final LoadedConfig loaded;

        private Prepared(Snapshot snapshot, LoadedConfig loaded) {
            this.snapshot = snapshot;
            this.loaded = loaded;
        }
    }

    Prepared prepare(LoadedConfig loaded) {
        return new Prepared(build(loaded.inboundSecurity(), loaded.listeners()), loaded);
    }

    /** Drops checks that were prepared and never installed (their key sets stop refreshing). */
    void discard(Prepared prepared) {
        prepared.snapshot.keySets().forEach(InboundAuthorization::closeQuietly);
    }

    /** Builds the checks of {@code loaded} and swaps them in; the previous snapshot's key sets are closed. */
    InboundAuthorization update(LoadedConfig loaded) {
        return install(prepare(loaded));
    }

    /** Puts prepared checks in force; the previous snapshot's key sets are closed. */
    synchronized InboundAuthorization install(Prepared prepared) {
        Snapshot next = prepared.snapshot;
        if (closed) {
            discard(prepared);
            return this;
        }
        LoadedConfig loaded = prepared.loaded;
        Snapshot previous = snapshot;
        snapshot = next;
        previous.keySets().forEach(InboundAuthorization::closeQuietly);
        if (next.chain() != null || previous.chain() != null) {
            InboundSecurity s = loaded.inboundSecurity();
            LOG.info("inbound authorization {}: {} AuthorizationPolicies, JWT issuers {}, on listeners {}",
                    loaded.version(), s.policies().size(),
                    s.jwtRules().stream().map(InboundSecurity.JwtRuleConfig::issuer).toList(), next.inbound());
        }
        return this;
    }

    private Snapshot build(InboundSecurity security, List<ListenerRole> listeners) {
        if (security.isEmpty()) {
            return Snapshot.EMPTY;
        }
        Set<String> inbound = new HashSet<>();
        for (ListenerRole l : listeners) {
            if (l.direction() == ListenerRole.Direction.INBOUND) {
                inbound.add(l.name());
            }
        }
        List<JwksSource> keySets = new ArrayList<>();
        List<JwtRule> rules = new ArrayList<>();
        try {
            for (InboundSecurity.JwtRuleConfig r : security.jwtRules()) {
                JwtRule rule = r.toRule(jwksClient, jwksRefresh);
                keySets.add(rule.jwks());
                rules.add(rule);
            }
        } catch (RuntimeException e) {
            keySets.forEach(InboundAuthorization::closeQuietly);
            throw e;
        }
        HttpFilter jwt = rules.isEmpty() ? null : new JwtAuthenticationFilter(rules, Clock.systemUTC(),
                Duration.ofSeconds(60), jwtAllowed, jwtDenied);
        HttpFilter rbac = security.policies().isEmpty() ? null
                : new AuthorizationFilter(AuthorizationEngine.of(security.policies()), rbacAllowed, rbacDenied);
        HttpFilter chain;
        if (jwt != null && rbac != null) {
            chain = (ctx, request, next) -> jwt.filter(ctx, request, (c, r) -> rbac.filter(c, r, next));
        } else {
            chain = jwt != null ? jwt : rbac;
        }
        return new Snapshot(Set.copyOf(inbound), chain, List.copyOf(keySets));
    }

    @Override
    public CompletionStage<HttpResponse> filter(RequestContext ctx, HttpRequest request, HttpService next) {
        Snapshot s = snapshot;
        if (s.chain() == null || !s.inbound().contains(ctx.listenerName())) {
            return next.serve(ctx, request);
        }
        return s.chain().filter(ctx, request, next);
    }

    /**
     * Shows the counters where the admin API shows statistics ({@code /stats}, {@code /stats/prometheus}), when
     * telemetry records metrics: {@code meshproxy_rbac_allowed_total}, {@code meshproxy_rbac_denied_total},
     * {@code meshproxy_jwt_authn_allowed_total}, {@code meshproxy_jwt_authn_denied_total} (Envoy's
     * {@code rbac.allowed}, {@code rbac.denied}, {@code jwt_authn.allowed}, {@code jwt_authn.denied}).
     */
    void bindStats(io.meshproxy.telemetry.Telemetry telemetry) {
        for (io.meshproxy.telemetry.TelemetrySink sink : telemetry.sinks()) {
            if (sink instanceof io.meshproxy.telemetry.metrics.IstioMetrics metrics) {
                counter(metrics, "meshproxy.rbac.allowed", rbacAllowed, "Requests inbound authorization allowed");
                counter(metrics, "meshproxy.rbac.denied", rbacDenied, "Requests inbound authorization denied (403)");
                counter(metrics, "meshproxy.jwt_authn.allowed", jwtAllowed,
                        "Requests with a valid JWT or none, on inbound listeners with RequestAuthentication");
                counter(metrics, "meshproxy.jwt_authn.denied", jwtDenied, "Requests with an invalid JWT (401)");
            }
        }
    }

    private static void counter(io.meshproxy.telemetry.metrics.IstioMetrics metrics, String name, LongAdder adder,
            String description) {
        io.micrometer.core.instrument.FunctionCounter.builder(name, adder, LongAdder::sum).description(description)
                .register(metrics.registry());
    }

    /** Stops the key sets' refresh. */
    @Override
    public synchronized void close() {
        closed = true;
        snapshot.keySets().forEach(InboundAuthorization::closeQuietly);
        snapshot = Snapshot.EMPTY;
        jwksRefresh.shutdownNow();
    }

    private static void closeQuietly(JwksSource s) {
        try {
            s.close();
        } catch (RuntimeException e) {
            LOG.warn("closing a JWKS source: {}", e.toString());
        }
    }
}
