package io.meshproxy.config;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files and directories in, version out; the Kubernetes ConfigMap layout, watched. */
class ConfigLoaderTest {
    static final String PROXY = BrokenConfigTest.PROXY;
    static final String REVIEWS = BrokenConfigTest.REVIEWS;

    @Test
    void directoryMeansItsYamlFilesInNameOrderSkippingHiddenEntries(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("b-reviews.yml"), REVIEWS);
        Files.writeString(dir.resolve("a-proxy.yaml"), PROXY);
        Files.writeString(dir.resolve("notes.txt"), "not: [yaml");
        Files.createDirectories(dir.resolve(".git"));
        Files.writeString(dir.resolve(".git/broken.yaml"), "kind: [");
        Files.createDirectories(dir.resolve("more"));
        Files.writeString(dir.resolve("more/c.yaml"), "# only a comment\n");
        LoadedConfig c = ConfigLoader.load(dir);
        assertEquals(List.of(dir.resolve("a-proxy.yaml").toString(), dir.resolve("b-reviews.yml").toString(),
                dir.resolve("more/c.yaml").toString()), c.sources());
        assertEquals(1, c.config().listeners().size());
        assertEquals(List.of(new ListenerRole("outbound", ListenerRole.Direction.OUTBOUND, null)), c.listeners());
    }

    @Test
    void missingPathsAndEmptyDirectoriesAreErrors(@TempDir Path dir) throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        ConfigFileException e = assertThrows(ConfigFileException.class,
                () -> ConfigLoader.load(dir.resolve("nope.yaml"), empty));
        assertEquals(List.of(empty + ":1:1: directory holds no .yaml or .yml file",
                dir.resolve("nope.yaml") + ":1:1: no such file or directory"),
                e.errors().stream().map(ConfigError::toString).toList());
    }

    @Test
    void versionIsADigestOfTheFiles(@TempDir Path dir) throws Exception {
        Path proxy = Files.writeString(dir.resolve("proxy.yaml"), PROXY);
        Files.writeString(dir.resolve("reviews.yaml"), REVIEWS);
        String v1 = ConfigLoader.load(dir).version();
        assertEquals(v1, ConfigLoader.load(dir).version(), "same files, same version");
        assertEquals(12, v1.length());
        Files.writeString(proxy, PROXY + "# a comment\n");
        assertNotEquals(v1, ConfigLoader.load(dir).version());
    }

    @Test
    void aConfigMapSwapIsPickedUp(@TempDir Path dir) throws Exception {
        // Kubernetes mounts a ConfigMap as ..data -> ..<timestamp>/ plus one symbolic link per key, and updates
        // it by pointing ..data at a new directory in one rename.
        Path first = Files.createDirectories(dir.resolve("..2026_11_22_1"));
        Files.writeString(first.resolve("proxy.yaml"), PROXY);
        Files.writeString(first.resolve("reviews.yaml"), REVIEWS);
        Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
        Files.createSymbolicLink(dir.resolve("proxy.yaml"), Path.of("..data/proxy.yaml"));
        Files.createSymbolicLink(dir.resolve("reviews.yaml"), Path.of("..data/reviews.yaml"));
        LoadedConfig initial = ConfigLoader.load(dir);
        assertEquals(List.of(dir.resolve("proxy.yaml").toString(), dir.resolve("reviews.yaml").toString()),
                initial.sources());

        List<LoadedConfig> applied = new CopyOnWriteArrayList<>();
        try (ConfigWatcher w = ConfigWatcher.start(List.of(dir), initial.version(), applied::add)) {
            Path second = Files.createDirectories(dir.resolve("..2026_11_22_2"));
            Files.writeString(second.resolve("proxy.yaml"), PROXY.replace("sidecar", "sidecar-2"));
            Files.writeString(second.resolve("reviews.yaml"), REVIEWS);
            Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
            Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            await().atMost(Duration.ofSeconds(20)).until(() -> applied.size() == 1);
            assertNotEquals(initial.version(), applied.get(0).version());
            assertEquals(applied.get(0).version(), w.appliedVersion());
        }
    }

    @Test
    void hiddenFilesDoNotTriggerAReloadButTheConfigMapLinkDoes() {
        assertEquals(false, ConfigWatcher.relevant(event(".reviews.yaml.tmp")));
        assertEquals(false, ConfigWatcher.relevant(event(".proxy.yaml.swp")));
        assertEquals(true, ConfigWatcher.relevant(event("..data")));
        assertEquals(true, ConfigWatcher.relevant(event("reviews.yaml")));
    }

    private static java.nio.file.WatchEvent<Path> event(String name) {
        return new java.nio.file.WatchEvent<>() {
            @Override
            public Kind<Path> kind() {
                return java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
            }

            @Override
            public int count() {
                return 1;
            }

            @Override
            public Path context() {
                return Path.of(name);
            }
        };
    }
}
