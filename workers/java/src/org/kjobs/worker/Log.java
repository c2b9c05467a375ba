package org.kjobs.worker;

import java.io.PrintStream;
import java.time.Instant;

/** The worker's log: one line per event, on standard error, with the time and a level. */
final class Log {

    private static final PrintStream OUT = System.err;

    private Log() {
    }

    static void info(String message) {
        line("INFO ", message);
    }

    static void warn(String message) {
        line("WARN ", message);
    }

    static void error(String message) {
        line("ERROR", message);
    }

    private static void line(String level, String message) {
        String text = Instant.now() + " " + level + " " + message;
        synchronized (OUT) {
            OUT.println(text);
            OUT.flush();
        }
    }
}
