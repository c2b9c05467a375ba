package org.kjobs.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The worker's command line, read once at start (a usage error is an {@link IllegalArgumentException}). */
final class Options {

    static final String DEFAULT_URL = "http://127.0.0.1:8080/kie-server/services/rest";

    static final String USAGE = String.join("\n",
            "Usage: java -jar kjobs-kie-worker.jar --url URL --classpath JARS --container ID [options]",
            "",
            "Runs KIE commands (classes implementing org.kie.api.executor.Command) from JARS for a kjobs server,",
            "over its worker protocol.",
            "",
            "  --url URL            the server's REST root [KJOBS_URL] (default " + DEFAULT_URL + ")",
            "  --classpath JARS     jar files and folders holding the commands and callbacks, separated by '"
                    + java.io.File.pathSeparator + "'",
            "                       (an entry folder/* stands for the jars in the folder)",
            "  --user NAME          basic-auth user, a 'worker' or 'kie-server' role [KJOBS_USER];",
            "                       the password comes from KJOBS_PASSWORD only",
            "  --container ID       a container whose jobs this worker runs (the server's --remote-container);",
            "                       repeat it or separate ids with ',' for several [KJOBS_CONTAINER]",
            "  --concurrency N      jobs run at once (default 10)",
            "  --commands PATTERNS  run only these commands: class names, '*' for any run of characters,",
            "                       separated by ',' (default: every command of the containers)",
            "  --name NAME          this worker's name on the server (default java-HOST-PID)",
            "  --stop-timeout MS    on SIGTERM, time running jobs get to finish before they are given back",
            "                       (default 10000)",
            "",
            "Without a server:",
            "  --run CLASS [--data JSON] [--retries N]",
            "                       runs one command from --classpath on the request data JSON and prints",
            "                       the outcome as JSON (exit 0 when DONE)",
            "  --run-jobs FILE      runs each job of a JSON array (FILE, or - for standard input) of",
            "                       {\"command\", \"requestData\", \"retries\", \"containerId\", \"businessKey\"}",
            "                       and prints one outcome per line",
            "  --help, --version");

    String url = DEFAULT_URL;
    String classpath;
    String user;
    String password;
    final List<String> containers = new ArrayList<>();
    int concurrency = 10;
    final List<String> commands = new ArrayList<>();
    String name;
    long stopTimeoutMs = 10_000;
    String run;
    String data = "{}";
    int retries;
    String runJobs;
    boolean help;
    boolean version;

    /** Reads the environment first, then the arguments (which win). */
    static Options parse(String[] args, Map<String, String> env) {
        Options options = new Options();
        if (env.get("KJOBS_URL") != null && !env.get("KJOBS_URL").isBlank()) {
            options.url = env.get("KJOBS_URL");
        }
        options.user = blankToNull(env.get("KJOBS_USER"));
        options.password = env.get("KJOBS_PASSWORD");
        boolean containersFromArgs = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int equals = arg.indexOf('=');
            if (arg.startsWith("--") && equals > 0) {
                value = arg.substring(equals + 1);
                arg = arg.substring(0, equals);
            }
            if (arg.equals("--help") || arg.equals("-h")) {
                options.help = true;
                continue;
            }
            if (arg.equals("--version")) {
                options.version = true;
                continue;
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(arg.startsWith("--") ? arg + " needs a value"
                            : "unexpected argument " + arg);
                }
                value = args[++i];
            }
            switch (arg) {
                case "--url" -> options.url = value;
                case "--classpath", "--cp" -> options.classpath = value;
                case "--user" -> options.user = blankToNull(value);
                case "--password" -> throw new IllegalArgumentException(
                        "--password: give the password in the environment variable KJOBS_PASSWORD, never on the "
                                + "command line (other users of the machine can read it there)");
                case "--container" -> {
                    containersFromArgs = true;
                    addList(options.containers, value);
                }
                case "--concurrency" -> options.concurrency = integer(arg, value, 1, 1000);
                case "--commands" -> addList(options.commands, value);
                case "--name" -> options.name = value;
                case "--stop-timeout" -> options.stopTimeoutMs = integer(arg, value, 0, 3_600_000);
                case "--run" -> options.run = value;
                case "--data" -> options.data = value;
                case "--retries" -> options.retries = integer(arg, value, 0, 1_000_000);
                case "--run-jobs" -> options.runJobs = value;
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (!containersFromArgs && env.get("KJOBS_CONTAINER") != null) {
            addList(options.containers, env.get("KJOBS_CONTAINER"));
        }
        return options;
    }

    /** Checks what running as a worker needs (the local modes need only --classpath). */
    void checkForWorker() {
        if (containers.isEmpty()) {
            throw new IllegalArgumentException("--container ID is required: the id of the server's "
                    + "--remote-container whose jobs this worker runs (repeat it for several)");
        }
        if (name != null && !name.matches("[A-Za-z0-9._:-]{1,100}")) {
            throw new IllegalArgumentException("--name " + name
                    + ": use 1 to 100 letters, digits, '.', '_', ':' or '-'");
        }
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw new IllegalArgumentException("--url " + url + ": expected an http:// or https:// URL");
        }
    }

    /** This worker's name: --name, or java-HOST-PID. */
    String workerName() {
        if (name != null) {
            return name;
        }
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.nio.file.Files.readString(java.nio.file.Path.of("/etc/hostname")).trim();
            } catch (java.io.IOException | RuntimeException e) {
                host = "";
            }
        }
        String safe = host.replaceAll("[^A-Za-z0-9._-]", "-");
        String named = "java-" + (safe.isEmpty() ? "" : safe + "-") + ProcessHandle.current().pid();
        return named.length() > 100 ? named.substring(named.length() - 100) : named;
    }

    private static void addList(List<String> list, String value) {
        for (String item : value.split(",")) {
            if (!item.isBlank()) {
                list.add(item.trim());
            }
        }
    }

    private static int integer(String flag, String value, int min, int max) {
        try {
            int number = Integer.parseInt(value.trim());
            if (number >= min && number <= max) {
                return number;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(flag + " " + value + ": expected a whole number from " + min + " to "
                + max);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
