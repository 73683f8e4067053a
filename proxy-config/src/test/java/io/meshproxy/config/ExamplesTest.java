package io.meshproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The example configurations in {@code examples/config} (one directory each, documented in
 * {@code docs/configuration.md}) stay valid: each directory passes {@link ConfigLoader#validate} exactly as
 * {@code meshproxy validate -c DIR} reads it, and loads into a configuration with a listener.
 */
class ExamplesTest {
    /** From the proxy-config module directory, where the build runs its tests. */
    static final Path EXAMPLES = Path.of("..", "examples", "config");

    /** The names of the example directories, sorted. */
    static List<String> examples() throws IOException {
        try (Stream<Path> entries = Files.list(EXAMPLES)) {
            return entries.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(name -> !name.startsWith("."))
                    .sorted()
                    .toList();
        }
    }

    @Test
    void thereAreAtLeastFiveExamples() throws IOException {
        List<String> examples = examples();
        assertTrue(examples.size() >= 5, "examples in " + EXAMPLES.toAbsolutePath().normalize() + ": " + examples);
    }

    @ParameterizedTest(name = "{0} validates")
    @MethodSource("examples")
    void validates(String example) {
        List<String> errors = ConfigLoader.validate(List.of(EXAMPLES.resolve(example))).stream()
                .map(ConfigError::toString)
                .toList();
        assertEquals(List.of(), errors, example + " must validate");
    }

    @ParameterizedTest(name = "{0} loads, with a listener")
    @MethodSource("examples")
    void loadsWithAListener(String example) throws ConfigFileException {
        LoadedConfig loaded = ConfigLoader.load(EXAMPLES.resolve(example));
        assertFalse(loaded.config().listeners().isEmpty(), "listeners of " + example);
        assertFalse(loaded.config().clusters().isEmpty(), "clusters of " + example);
        assertTrue(loaded.sources().stream().anyMatch(s -> s.endsWith("proxy.yaml")),
                "every example has a proxy.yaml: " + loaded.sources());
    }

    @ParameterizedTest(name = "{0} has a README.md")
    @MethodSource("examples")
    void hasAReadme(String example) {
        assertTrue(Files.isRegularFile(EXAMPLES.resolve(example).resolve("README.md")),
                example + " has no README.md saying what it shows and how to run it");
    }
}
