package io.meshproxy.config;

import io.meshproxy.config.internal.Translator;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads configuration files — the meshproxy {@code Proxy} bootstrap and Istio's ServiceEntry, VirtualService
 * and DestinationRule — validates them strictly and translates them into proxy-core's
 * {@link io.meshproxy.core.config.ProxyConfig}, the way istiod translates them for Envoy.
 *
 * <p>Every problem of every file is reported at once, each with its file, line and column
 * ({@link ConfigError}); nothing is used unless everything is valid. A path that does not exist or cannot be
 * read is reported alone: what the other files would say without it (a missing Proxy, hosts without a
 * ServiceEntry) would be noise. A directory stands for the {@code .yaml}
 * and {@code .yml} files under it, in name order (hidden entries, such as a Kubernetes ConfigMap's
 * {@code ..data}, are skipped; the symbolic links beside them are followed).
 *
 * <p>An unknown field (or one under the wrong parent) is an error by default ({@link FieldValidation#STRICT});
 * with {@link FieldValidation#WARN} it is dropped with a warning instead, as the Kubernetes API server prunes
 * it. Warnings, of either mode, are on {@link LoadedConfig#warnings()}.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /** Loads files and directories, unknown fields being errors; see the class comment. */
    public static LoadedConfig load(List<Path> paths) throws ConfigFileException {
        return load(paths, FieldValidation.STRICT);
    }

    /** Loads files and directories, unknown fields handled as {@code fieldValidation} says. */
    public static LoadedConfig load(List<Path> paths, FieldValidation fieldValidation) throws ConfigFileException {
        return loadSources(read(paths), fieldValidation);
    }

    /** Loads files and directories; see the class comment. */
    public static LoadedConfig load(Path... paths) throws ConfigFileException {
        return load(Arrays.asList(paths));
    }

    /** Loads YAML texts already in memory (an embedded resource, a test), unknown fields being errors. */
    public static LoadedConfig loadSources(List<ConfigSource> sources) throws ConfigFileException {
        return loadSources(sources, FieldValidation.STRICT);
    }

    /** Loads YAML texts already in memory, unknown fields handled as {@code fieldValidation} says. */
    public static LoadedConfig loadSources(List<ConfigSource> sources, FieldValidation fieldValidation)
            throws ConfigFileException {
        Translator.Result r = Translator.translate(sources, fieldValidation);
        if (!r.errors().isEmpty()) {
            throw new ConfigFileException(r.errors());
        }
        List<String> names = new ArrayList<>();
        for (ConfigSource s : sources) {
            names.add(s.name());
        }
        return new LoadedConfig(r.config(), version(sources), names, r.listeners(), r.warnings(), r.telemetry(),
                r.identity(), r.inboundSecurity());
    }

    /** Every error in the given files and directories, sorted by place; empty when they are valid. */
    public static List<ConfigError> validate(List<Path> paths) {
        try {
            load(paths);
            return List.of();
        } catch (ConfigFileException e) {
            return e.errors();
        }
    }

    /**
     * The YAML files named by {@code paths}, read. A path that does not exist or cannot be read, or a
     * directory holding no YAML file, is an error.
     */
    public static List<ConfigSource> read(List<Path> paths) throws ConfigFileException {
        List<ConfigSource> sources = new ArrayList<>();
        List<ConfigError> errors = new ArrayList<>();
        if (paths.isEmpty()) {
            errors.add(new ConfigError("<arguments>", 1, 1, "no configuration file or directory given"));
        }
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                List<Path> files = yamlFiles(p, errors);
                if (files.isEmpty()) {
                    errors.add(new ConfigError(p.toString(), 1, 1, "directory holds no .yaml or .yml file"));
                }
                for (Path f : files) {
                    readFile(f, sources, errors);
                }
            } else if (Files.exists(p)) {
                readFile(p, sources, errors);
            } else {
                errors.add(new ConfigError(p.toString(), 1, 1, "no such file or directory"));
            }
        }
        if (!errors.isEmpty()) {
            errors.sort(null);
            throw new ConfigFileException(errors);
        }
        return sources;
    }

    /** The directories to watch for {@code paths}: each directory and its visible subdirectories, each file's parent. */
    static List<Path> watchedDirectories(List<Path> paths) {
        List<Path> dirs = new ArrayList<>();
        for (Path p : paths) {
            Path abs = p.toAbsolutePath().normalize();
            if (Files.isDirectory(abs)) {
                try (Stream<Path> walk = Files.walk(abs)) {
                    walk.filter(Files::isDirectory).filter(d -> d.equals(abs) || !hidden(abs.relativize(d)))
                            .forEach(d -> addOnce(dirs, d));
                } catch (IOException | RuntimeException e) {
                    addOnce(dirs, abs);
                }
            } else if (abs.getParent() != null) {
                addOnce(dirs, abs.getParent());
            }
        }
        return dirs;
    }

    private static void addOnce(List<Path> list, Path p) {
        if (!list.contains(p)) {
            list.add(p);
        }
    }

    private static List<Path> yamlFiles(Path dir, List<ConfigError> errors) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(f -> !hidden(dir.relativize(f)))
                    .filter(f -> {
                        String n = f.getFileName().toString();
                        return (n.endsWith(".yaml") || n.endsWith(".yml")) && Files.isRegularFile(f);
                    })
                    .sorted()
                    .toList();
        } catch (IOException | RuntimeException e) {
            errors.add(new ConfigError(dir.toString(), 1, 1, "cannot list directory: " + e.getMessage()));
            return List.of();
        }
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static void readFile(Path f, List<ConfigSource> sources, List<ConfigError> errors) {
        try {
            byte[] bytes = Files.readAllBytes(f);
            String text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            sources.add(new ConfigSource(f.toString(), text));
        } catch (CharacterCodingException e) {
            errors.add(new ConfigError(f.toString(), 1, 1, "not valid UTF-8"));
        } catch (IOException e) {
            errors.add(new ConfigError(f.toString(), 1, 1, "cannot read: " + e));
        }
    }

    /** SHA-256 over every source's name and text, the first 12 hex digits. */
    static String version(List<ConfigSource> sources) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (ConfigSource s : sources) {
                d.update(s.name().getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
                d.update(s.text().getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
            }
            return HexFormat.of().formatHex(d.digest(), 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
