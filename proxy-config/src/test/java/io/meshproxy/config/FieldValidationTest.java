package io.meshproxy.config;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshproxy.core.config.CircuitBreakers;
import io.meshproxy.core.config.ClusterConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FieldValidation#WARN}: unknown and misplaced fields become warnings at their place, with the same hint,
 * and are dropped; every other mistake stays an error; STRICT (the default) is unchanged.
 */
class FieldValidationTest {
    static final String RULE = """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, labels: {app: reviews}, annotations2: {}}
            spec:
              host: reviews
              trafficPolicy:
                connectionPool:
                  tcp: {maxConnections: 10, keepAlive: {time: 1s}}
                  http: {http2MaxRequests: 20, interval: 30s}
                someFutureField: true
            """;

    static List<ConfigSource> sources(String rule) {
        return List.of(new ConfigSource("proxy.yaml", ResilienceTranslationTest.PROXY),
                new ConfigSource("reviews.yaml", ResilienceTranslationTest.REVIEWS), new ConfigSource("case.yaml", rule));
    }

    static final List<String> EXPECTED = List.of(
            "case.yaml:3:51: unknown field 'annotations2' in 'metadata' (did you mean 'annotations'?)",
            "case.yaml:8:33: unknown field 'keepAlive' in 'tcp' (did you mean 'tcpKeepalive'?)",
            "case.yaml:9:36: unknown field 'interval' in 'http' (it belongs in 'outlierDetection')",
            "case.yaml:10:5: unknown field 'someFutureField' in 'trafficPolicy'");

    @Test
    void strictReportsUnknownFieldsAsErrors() {
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> ConfigLoader.loadSources(sources(RULE)));
        assertEquals(EXPECTED, e.errors().stream().map(ConfigError::toString).toList());
        assertEquals(e.errors(), assertThrows(ConfigFileException.class,
                () -> ConfigLoader.loadSources(sources(RULE), FieldValidation.STRICT)).errors());
    }

    @Test
    void warnDropsUnknownFieldsWithAWarningEach() throws Exception {
        LoadedConfig loaded = ConfigLoader.loadSources(sources(RULE), FieldValidation.WARN);
        assertEquals(EXPECTED, loaded.warnings().stream().map(ConfigError::toString).toList());
        ClusterConfig c = loaded.config().cluster("outbound|9080||reviews.default.svc.cluster.local");
        assertEquals(CircuitBreakers.UNLIMITED.withMaxConnections(10).withMaxRequests(20), c.circuitBreakers());
        assertEquals(null, c.connectionPool().tcpKeepalive());
        assertEquals(null, c.outlierDetection(), "a misplaced field is dropped, not moved");
    }

    @Test
    void warnKeepsTypeAndValueErrorsAsErrors() {
        String rule = RULE.replace("maxConnections: 10", "maxConnections: ten")
                .replace("host: reviews\n", "host: reviewz\n");
        ConfigFileException e = assertThrows(ConfigFileException.class,
                () -> ConfigLoader.loadSources(sources(rule), FieldValidation.WARN));
        assertEquals(List.of("case.yaml:5:9: DestinationRule host 'reviewz' matches no ServiceEntry host",
                "case.yaml:8:29: 'maxConnections' must be an integer, got string 'ten'"),
                e.errors().stream().map(ConfigError::toString).toList());
        assertThrows(ConfigFileException.class, () -> ConfigLoader.loadSources(List.of(
                new ConfigSource("proxy.yaml", ResilienceTranslationTest.PROXY.replace("kind: Proxy", "kind: Proxi"))),
                FieldValidation.WARN), "an unknown kind is not a field");
    }

    @Test
    void filesLoadInWarnModeAndTheWatcherKeepsTheMode(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("proxy.yaml"), ResilienceTranslationTest.PROXY);
        Files.writeString(dir.resolve("reviews.yaml"), ResilienceTranslationTest.REVIEWS);
        Files.writeString(dir.resolve("rule.yaml"), RULE);
        assertThrows(ConfigFileException.class, () -> ConfigLoader.load(List.of(dir)));
        LoadedConfig first = ConfigLoader.load(List.of(dir), FieldValidation.WARN);
        assertEquals(4, first.warnings().size());
        AtomicReference<LoadedConfig> applied = new AtomicReference<>();
        try (ConfigWatcher w = ConfigWatcher.start(List.of(dir), first.version(), FieldValidation.WARN,
                first.warnings(), applied::set)) {
            Path tmp = dir.resolve(".rule.yaml.tmp");
            Files.writeString(tmp, RULE.replace("maxConnections: 10", "maxConnections: 11"));
            Files.move(tmp, dir.resolve("rule.yaml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            await().atMost(Duration.ofSeconds(10)).until(() -> applied.get() != null);
            assertEquals(11, applied.get().config().cluster("outbound|9080||reviews.default.svc.cluster.local")
                    .circuitBreakers().maxConnections());
            assertEquals(first.warnings(), applied.get().warnings());
            assertEquals(List.of(), w.lastErrors());
        }
    }
}
