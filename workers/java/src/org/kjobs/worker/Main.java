package org.kjobs.worker;

import java.net.URLClassLoader;

/** {@code java -jar kjobs-kie-worker.jar ...}: see {@link Options#USAGE}. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        Options options;
        try {
            options = Options.parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            return usageError(e.getMessage());
        }
        if (options.help) {
            System.out.println(Options.USAGE);
            return 0;
        }
        if (options.version) {
            String version = Main.class.getPackage().getImplementationVersion();
            System.out.println("kjobs-kie-worker " + (version == null ? "(development)" : version));
            return 0;
        }
        if (options.classpath == null) {
            return usageError("--classpath JARS is required: the jar files and folders of your commands");
        }
        URLClassLoader loader;
        try {
            loader = CommandClassLoader.create(options.classpath);
        } catch (IllegalArgumentException e) {
            return usageError(e.getMessage());
        }
        try {
            if (options.run != null) {
                return LocalRun.one(loader, options.run, options.data, options.retries,
                        options.containers.isEmpty() ? null : options.containers.get(0), System.out);
            }
            if (options.runJobs != null) {
                LocalRun.many(loader, options.runJobs, System.in, System.out);
                return 0;
            }
            options.checkForWorker();
        } catch (IllegalArgumentException e) {
            return usageError(e.getMessage());
        } catch (java.io.IOException e) {
            return usageError(e.toString());
        }
        WorkerProtocol protocol;
        try {
            protocol = new WorkerProtocol(options.url, options.user, options.password);
        } catch (IllegalArgumentException e) {
            return usageError("--url " + options.url + ": " + e.getMessage());
        }
        if (options.user == null) {
            Log.warn("no --user (KJOBS_USER): calling the server without authentication");
        } else if (options.password == null) {
            Log.warn("--user " + options.user + " with no KJOBS_PASSWORD: sending an empty password");
        }
        Worker worker = new Worker(protocol, loader, options.workerName(), options.containers, options.commands,
                options.concurrency, options.stopTimeoutMs);
        Runtime.getRuntime().addShutdownHook(new Thread(worker::stop, "kjobs-stop"));
        try {
            worker.run();
        } catch (Worker.Fatal e) {
            Log.error(e.getMessage());
            return 3;
        }
        return 0;
    }

    private static int usageError(String message) {
        System.err.println("kjobs-kie-worker: " + message);
        System.err.println("(java -jar kjobs-kie-worker.jar --help for the options)");
        return 2;
    }
}
