package io.meshproxy.core.config;

import java.time.Duration;

/**
 * Active HTTP health checking of every endpoint of a cluster (Envoy's {@code health_checks}, a meshproxy
 * extension for Istio users): every {@code interval} each endpoint gets {@code GET path}; a 200 answer within
 * {@code timeout} is a success, anything else a failure. An endpoint turns unhealthy after
 * {@code unhealthyThreshold} failures in a row and healthy again after {@code healthyThreshold} successes;
 * endpoints start healthy. Works alongside outlier detection: an endpoint takes traffic only when neither
 * has taken it out.
 *
 * @param path the request path (default {@code /healthz})
 * @param host the {@code Host} header sent; null for the endpoint's address
 * @param interval time between checks of one endpoint (default 5 s)
 * @param timeout a check not answered within this fails (default 1 s)
 * @param healthyThreshold successes in a row that make an unhealthy endpoint healthy (default 1)
 * @param unhealthyThreshold failures in a row that make a healthy endpoint unhealthy (default 3)
 */
public record HealthCheck(String path, String host, Duration interval, Duration timeout, int healthyThreshold,
        int unhealthyThreshold) {

    public HealthCheck {
        path = path == null ? "/healthz" : Checks.nonBlank("path", path);
        if (!path.startsWith("/")) {
            throw Checks.fail("path", "must start with '/', was '" + path + "'");
        }
        Checks.nullOrNonBlank("host", host);
        interval = positive("interval", interval, Duration.ofSeconds(5));
        timeout = positive("timeout", timeout, Duration.ofSeconds(1));
        Checks.atLeast("healthyThreshold", healthyThreshold, 1);
        Checks.atLeast("unhealthyThreshold", unhealthyThreshold, 1);
    }

    /** {@code GET path} every {@code interval}, defaults otherwise. */
    public static HealthCheck http(String path, Duration interval) {
        return new HealthCheck(path, null, interval, Duration.ofSeconds(1), 1, 3);
    }

    private static Duration positive(String field, Duration value, Duration defaultValue) {
        Duration d = Checks.duration(field, value, defaultValue);
        if (d.isZero()) {
            throw Checks.fail(field, "must be more than 0");
        }
        return d;
    }
}
