package org.kjobs.worker;

import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The class loader of the user's command jars (KIE: the kjar's class loader). Its parent sees the JDK and KIE's
 * {@code org.kie.api.executor} types, nothing else of the worker: a command cannot load the worker's own classes,
 * and a library the worker might bundle one day cannot clash with the user's version of it.
 */
final class CommandClassLoader {

    /** The types of KIE's command API this worker provides (its own implementation, KIE's names). */
    static final List<String> KIE_API = List.of(
            "org.kie.api.executor.Command",
            "org.kie.api.executor.CommandCallback",
            "org.kie.api.executor.CommandContext",
            "org.kie.api.executor.ExecutionResults",
            "org.kie.api.executor.Reoccurring");

    private CommandClassLoader() {
    }

    /**
     * A loader over {@code classpath}: jar files and folders separated by {@link File#pathSeparator}; an entry
     * {@code folder/*} stands for the jar files in that folder, as with {@code java -cp}.
     *
     * @throws IllegalArgumentException an entry that does not exist, or an empty class path
     */
    static URLClassLoader create(String classpath) {
        List<URL> urls = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            if (entry.equals("*") || entry.endsWith(File.separator + "*")) {
                File folder = new File(entry.substring(0, entry.length() - 1));
                File[] jars = folder.listFiles((dir, name) -> name.endsWith(".jar") || name.endsWith(".JAR"));
                if (jars == null) {
                    throw new IllegalArgumentException("--classpath: no folder " + folder.getPath());
                }
                Arrays.sort(jars);
                for (File jar : jars) {
                    urls.add(toUrl(jar));
                }
                continue;
            }
            File file = new File(entry);
            if (!file.exists()) {
                throw new IllegalArgumentException("--classpath: no file or folder " + entry);
            }
            urls.add(toUrl(file));
        }
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("--classpath names no jar file or folder");
        }
        // Unnamed: stack traces then read as under KIE ("com.acme.X.execute(X.java:8)"), with no loader name before.
        return new URLClassLoader(urls.toArray(new URL[0]), new KieApiOnly());
    }

    private static URL toUrl(File file) {
        try {
            // A folder's URL must end with '/' for URLClassLoader to read it as a folder: toURI adds it.
            return file.getCanonicalFile().toURI().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("--classpath: cannot use " + file, e);
        } catch (IOException e) {
            throw new IllegalArgumentException("--classpath: cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** The parent of the command loader: the JDK's platform classes, and the KIE API types from the worker. */
    private static final class KieApiOnly extends ClassLoader {
        private static final ClassLoader WORKER = CommandClassLoader.class.getClassLoader();

        static {
            ClassLoader.registerAsParallelCapable();
        }

        KieApiOnly() {
            super("kjobs-kie-api", ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            if (KIE_API.contains(name)) {
                return WORKER.loadClass(name);
            }
            throw new ClassNotFoundException(name);
        }
    }
}
