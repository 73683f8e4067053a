package io.meshproxy.sidecar;

import io.meshproxy.config.ConfigError;
import io.meshproxy.config.ConfigFileException;
import io.meshproxy.config.ConfigLoader;
import io.meshproxy.config.FieldValidation;
import io.meshproxy.config.LoadedConfig;
import io.meshproxy.core.MeshProxy;
import io.meshproxy.core.config.ListenerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar meshproxy.jar}: the command line.
 * <ul>
 *   <li>no command, or {@code demo}: the embedded demo mesh ({@link DemoMesh});</li>
 *   <li>{@code run -c FILE_OR_DIR...}: serve the configuration in those files, reloading it when they
 *       change ({@link Sidecar}), until SIGTERM or SIGINT, which drain gracefully;</li>
 *   <li>{@code validate -c FILE_OR_DIR...}: check files, print every error as {@code FILE:LINE:COLUMN: message}.</li>
 * </ul>
 * Nothing here creates a logger before the arguments are parsed: the log level is a system property
 * slf4j-simple reads once, when the first logger is created ({@link LogLevel#apply()}).
 */
@Command(name = "meshproxy", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"A service-mesh data plane for the JVM: Istio YAML in, an Envoy-like sidecar out.",
                "Without a command it starts the embedded demo mesh (the same as 'demo')."},
        subcommands = {Main.Demo.class, Main.Run.class, Main.Validate.class, Main.Certs.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Environment:", "  MESHPROXY_LOG_LEVEL  the log level when --log-level is not given",
                "Exit status: 0 ok, 1 invalid configuration or failure to start, 2 bad arguments."})
public final class Main implements Callable<Integer> {
    /** The environment variable read when {@code --log-level} is not given. */
    static final String LOG_LEVEL_ENV = "MESHPROXY_LOG_LEVEL";

    @Option(names = "--log-level", scope = ScopeType.INHERIT, paramLabel = "LEVEL", converter = LogLevelConverter.class,
            description = "error, warn, info, debug or trace (default: $" + LOG_LEVEL_ENV + ", else info)")
    LogLevel logLevel;

    @Mixin
    DemoOptions demo;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line, ready to {@code execute}; tests give it their own output writers. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionStrategy(Main::execute);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("meshproxy: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            if (LogLevel.DEBUG.name().equalsIgnoreCase(System.getProperty(LogLevel.DEFAULT_LEVEL_PROPERTY))
                    || LogLevel.TRACE.name().equalsIgnoreCase(System.getProperty(LogLevel.DEFAULT_LEVEL_PROPERTY))) {
                e.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return 1;
        });
        return cl;
    }

    /** Applies the log level (option, else environment), then runs the command. */
    private static int execute(ParseResult parsed) {
        LogLevel level = null;
        ParseResult command = parsed;
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            command = p;
            if (p.hasMatchedOption("--log-level")) {
                level = p.matchedOptionValue("--log-level", null);
            }
        }
        if (level == null) {
            String env = System.getenv(LOG_LEVEL_ENV);
            if (env != null && !env.isBlank()) {
                try {
                    level = LogLevel.parse(env);
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(command.commandSpec().commandLine(), LOG_LEVEL_ENV + ": " + e.getMessage());
                }
            }
        }
        if (level != null) {
            level.apply();
        } // else: simplelogger.properties in the jar, or -Dorg.slf4j.simpleLogger.* from JAVA_OPTS
        return new CommandLine.RunLast().execute(parsed);
    }

    /** No command: the demo. */
    @Override
    public Integer call() throws Exception {
        return demo.run(spec);
    }

    // ------------------------------------------------------------------ demo

    @Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
            description = {"Starts the embedded demo mesh (the default command).", "",
                    "Two versions of a 'reviews' service in this process, and the proxy in front of them from",
                    "the embedded demo.yaml (Istio ServiceEntry, DestinationRule, VirtualService): 'canary: true'",
                    "goes to v2, the rest is split 90/10. v1 sits behind the proxy's own inbound listener, reached",
                    "over mTLS (ISTIO_MUTUAL, a development CA's certificate made at start in a temporary",
                    "directory deleted at exit) and STRICT by a PeerAuthentication: v1 shows the caller's SPIFFE",
                    "identity. Sends some traffic, prints where it landed, serves until interrupted (SIGTERM or",
                    "Ctrl-C drains)."})
    static final class Demo implements Callable<Integer> {
        @Mixin
        DemoOptions demo;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return demo.run(spec);
        }
    }

    /** The demo's options, on the top-level command and on {@code demo}. */
    static final class DemoOptions {
        @Option(names = "--admin-port", paramLabel = "PORT", defaultValue = "15000",
                description = "admin API port (default: ${DEFAULT-VALUE}; 0: any free port)")
        int adminPort;

        @Option(names = "--outbound-port", paramLabel = "PORT", defaultValue = "15001",
                description = "outbound listener port (default: ${DEFAULT-VALUE}; 0: any free port)")
        int outboundPort;

        @Option(names = "--inbound-port", paramLabel = "PORT", defaultValue = "15006",
                description = "inbound listener port (default: ${DEFAULT-VALUE}; 0: any free port)")
        int inboundPort;

        @Option(names = "--once", description = "send the demo traffic, print where it landed, and exit")
        boolean once;

        @Option(names = "--concurrency", paramLabel = "N",
                description = "event loop threads of the proxy (default: one per core)")
        Integer concurrency;

        int run(CommandSpec spec) throws Exception {
            checkPort(spec, "--admin-port", adminPort);
            checkPort(spec, "--outbound-port", outboundPort);
            checkPort(spec, "--inbound-port", inboundPort);
            PrintWriter out = spec.commandLine().getOut();
            DemoMesh demo = DemoMesh.start(new DemoMesh.Ports(adminPort, outboundPort, inboundPort),
                    concurrency(spec, concurrency));
            demo.sidecar().closeOnShutdown();
            MeshProxy mesh = demo.mesh();
            int outbound = mesh.listenerPort("outbound");
            int inbound = mesh.listenerPort("inbound");
            int admin = mesh.adminPort();
            out.printf("meshproxy demo mesh is up (configuration %s, from the embedded %s):%n", mesh.versionInfo(),
                    DemoMesh.RESOURCE);
            out.printf("  outbound listener 127.0.0.1:%d  Host: reviews -> 'canary: true' to v2, the rest 90/10 v1/v2%n",
                    outbound);
            out.printf("  inbound listener  127.0.0.1:%d  mTLS STRICT (PeerAuthentication), everything -> reviews v1"
                    + " (127.0.0.1:%d)%n", inbound, demo.servicePort("v1"));
            out.printf("  admin API         127.0.0.1:%d%n", admin);
            out.printf("  mTLS identity     %s (trust domain %s), from a development CA made at start;%n",
                    demo.spiffeId(), DemoMesh.TRUST_DOMAIN);
            out.printf("                    certificate, key and trust bundle in %s (deleted at exit)%n",
                    demo.certificateDirectory());
            out.printf("  reviews v1 is reached over ISTIO_MUTUAL (DestinationRule) through the inbound listener;"
                    + " v2 in plaintext%n");
            out.flush();
            Map<String, Integer> split = DemoMesh.traffic(mesh.client("outbound"), 100, false);
            Map<String, Integer> canary = DemoMesh.traffic(mesh.client("outbound"), 10, true);
            out.println("100 requests to reviews (90/10 split): " + split);
            out.println("10 requests with canary: true:         " + canary);
            String peer = demo.lastPeer("v1");
            out.println("reviews v1 saw its caller over mTLS as: " + (peer == null ? "(no request reached v1)" : peer));
            out.flush();
            if (once) {
                demo.close();
                return 0;
            }
            out.printf("%nTry:%n"
                    + "  curl -s -H 'Host: reviews' http://127.0.0.1:%1$d/reviews/1  # v1 answers \"peer\":\"spiffe://...\"%n"
                    + "  curl -s -H 'Host: reviews' -H 'canary: true' http://127.0.0.1:%1$d/reviews/1%n"
                    + "  curl -s --http2-prior-knowledge -H 'Host: reviews' http://127.0.0.1:%1$d/reviews/1%n"
                    + "  curl -sS http://127.0.0.1:%2$d/reviews/1  # plaintext to the inbound listener: refused by STRICT%n"
                    + "  curl -s -H 'Host: reviews' 'http://127.0.0.1:%1$d/reviews/1?delay_ms=3000' &  # then Ctrl-C: it still completes%n"
                    + "  curl -s http://127.0.0.1:%3$d/stats/prometheus | grep istio_requests_total%n"
                    + "  curl -s http://127.0.0.1:%3$d/clusters%n"
                    + "  curl -s http://127.0.0.1:%3$d/config_dump%n"
                    + "Ctrl-C (or SIGTERM) drains and stops.%n", outbound, inbound, admin);
            out.flush();
            demo.sidecar().awaitStopped();
            return 0;
        }
    }

    private static void checkPort(CommandSpec spec, String option, int port) {
        if (port < 0 || port > 65535) {
            throw new ParameterException(spec.commandLine(), option + ": " + port + " is not a port (0-65535)");
        }
    }

    private static int concurrency(CommandSpec spec, Integer concurrency) {
        if (concurrency == null) {
            return Sidecar.defaultConcurrency();
        }
        if (concurrency < 1) {
            throw new ParameterException(spec.commandLine(), "--concurrency: must be at least 1, was " + concurrency);
        }
        return concurrency;
    }

    // ------------------------------------------------------------------ run

    @Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
            description = {"Serves the configuration in YAML files, reloading it when they change.", "",
                    "The files hold a Proxy resource (listeners, admin) and Istio ServiceEntry, DestinationRule and",
                    "VirtualService resources (and Telemetry: tracing sampling, access logs on or off). A change is",
                    "swapped in atomically (telemetry settings apply at the next restart); an invalid",
                    "change is logged and the running configuration keeps serving. SIGTERM or SIGINT drains",
                    "(requests in flight finish, new connections are refused) and stops.",
                    "Invalid files at start: every error is printed as FILE:LINE:COLUMN: message, exit status 1."})
    static final class Run implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE_OR_DIR",
                description = "a YAML file, or a directory of .yaml/.yml files; repeatable")
        List<Path> config;

        @Option(names = "--concurrency", paramLabel = "N",
                description = "event loop threads (default: one per core)")
        Integer concurrency;

        @Option(names = "--field-validation", paramLabel = "MODE", defaultValue = "strict",
                converter = FieldValidationConverter.class,
                description = "strict: an unknown or misplaced field is an error (default); warn: it is a warning"
                        + " and is dropped, as the Kubernetes API server prunes it")
        FieldValidation fieldValidation;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Sidecar sidecar;
            try {
                sidecar = Sidecar.start(config, concurrency(spec, concurrency), fieldValidation);
            } catch (ConfigFileException e) {
                PrintWriter err = spec.commandLine().getErr();
                for (ConfigError error : e.errors()) {
                    err.println(error);
                }
                err.flush();
                return 1;
            }
            sidecar.closeOnShutdown();
            sidecar.awaitStopped();
            return 0;
        }
    }

    // ------------------------------------------------------------------ validate

    @Command(name = "validate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            sortOptions = false,
            description = {"Checks YAML files as 'run' would read them.", "",
                    "Prints every error as FILE:LINE:COLUMN: message (exit status 1), or a one-line summary",
                    "when they are valid (exit status 0), after any warnings (FILE:LINE:COLUMN: warning: message)."})
    static final class Validate implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE_OR_DIR",
                description = "a YAML file, or a directory of .yaml/.yml files; repeatable")
        List<Path> config;

        @Option(names = "--field-validation", paramLabel = "MODE", defaultValue = "strict",
                converter = FieldValidationConverter.class,
                description = "strict: an unknown or misplaced field is an error (default); warn: it is a warning"
                        + " and is dropped, as the Kubernetes API server prunes it")
        FieldValidation fieldValidation;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                LoadedConfig loaded = ConfigLoader.load(config, fieldValidation);
                for (ConfigError w : loaded.warnings()) {
                    out.println(warning(w));
                }
                out.println(okSummary(loaded));
                out.flush();
                return 0;
            } catch (ConfigFileException e) {
                for (ConfigError error : e.errors()) {
                    out.println(error);
                }
                out.flush();
                PrintWriter err = spec.commandLine().getErr();
                err.println(e.errors().size() + (e.errors().size() == 1 ? " error" : " errors"));
                err.flush();
                return 1;
            }
        }
    }

    // ------------------------------------------------------------------ certs

    @Command(name = "certs", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            sortOptions = false,
            description = {"Writes a development CA and workload certificates with SPIFFE identities.", "",
                    "DIR/root-cert.pem (and root-key.pem: keep it private), and per workload",
                    "DIR/NS-SA/{cert-chain.pem, key.pem, root-cert.pem}, the files a Proxy's spec.identity names.",
                    "For development and tests only: production certificates come from the mesh's CA."})
    static final class Certs implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "where to write the files")
        Path outDir;

        @Option(names = "--trust-domain", defaultValue = "cluster.local", paramLabel = "DOMAIN",
                description = "the SPIFFE trust domain (default: ${DEFAULT-VALUE})")
        String trustDomain;

        @Option(names = "--workload", required = true, paramLabel = "NS/SA",
                description = "a workload's namespace and service account, e.g. default/reviews; repeatable")
        List<String> workloads;

        @Option(names = "--rsa", description = "RSA 2048 workload keys instead of ECDSA P-256")
        boolean rsa;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            io.meshproxy.tls.DevCa ca = java.nio.file.Files.exists(outDir.resolve("root-cert.pem"))
                    ? io.meshproxy.tls.DevCa.load(outDir, trustDomain, java.time.Clock.systemUTC())
                    : io.meshproxy.tls.DevCa.create(trustDomain);
            java.nio.file.Files.createDirectories(outDir);
            ca.writeRoot(outDir);
            for (String w : workloads) {
                int slash = w.indexOf('/');
                if (slash <= 0 || slash == w.length() - 1 || w.indexOf('/', slash + 1) >= 0) {
                    spec.commandLine().getErr().println("--workload " + w + ": expected NS/SA, e.g. default/reviews");
                    return 2;
                }
                io.meshproxy.tls.DevCa.WorkloadRequest req = ca.workload(w.substring(0, slash), w.substring(slash + 1));
                if (rsa) {
                    req.keyType(io.meshproxy.tls.DevCa.KeyType.RSA_2048);
                }
                io.meshproxy.tls.DevCa.Issued issued = req.issue();
                Path dir = issued.writeTo(outDir);
                out.println(issued.id() + " -> " + dir);
            }
            out.println("root: " + outDir.resolve("root-cert.pem"));
            out.flush();
            return 0;
        }
    }

    /** {@code OK: 2 files, version 0123456789ab: listeners outbound, inbound; 7 clusters}. */
    static String okSummary(LoadedConfig loaded) {
        int files = loaded.sources().size();
        List<String> listeners = loaded.config().listeners().stream().map(ListenerConfig::name).toList();
        int clusters = loaded.config().clusters().size();
        return "OK: " + files + (files == 1 ? " file" : " files") + ", version " + loaded.version() + ": "
                + (listeners.isEmpty() ? "no listeners" : (listeners.size() == 1 ? "listener " : "listeners ")
                        + String.join(", ", listeners))
                + "; " + clusters + (clusters == 1 ? " cluster" : " clusters");
    }

    /** {@code FILE:LINE:COLUMN: warning: message}, as compilers print warnings. */
    static String warning(ConfigError w) {
        return w.file() + ":" + w.line() + ":" + w.column() + ": warning: " + w.message();
    }

    // ------------------------------------------------------------------ support

    /** {@code --field-validation}: strict or warn, any case. */
    static final class FieldValidationConverter implements ITypeConverter<FieldValidation> {
        @Override
        public FieldValidation convert(String value) {
            for (FieldValidation v : FieldValidation.values()) {
                if (v.name().equalsIgnoreCase(value)) {
                    return v;
                }
            }
            throw new CommandLine.TypeConversionException("must be strict or warn, was '" + value + "'");
        }
    }

    /** {@code --log-level}: any case. */
    static final class LogLevelConverter implements ITypeConverter<LogLevel> {
        @Override
        public LogLevel convert(String value) {
            return LogLevel.parse(value);
        }
    }

    /** {@code --version}: the jar's Implementation-Version and the JVM. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {
                "meshproxy " + (v == null ? "(development build)" : v),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"
            };
        }
    }
}
