package org.kjobs.worker;

import java.util.Date;
import java.util.Map;

/** How a run of a command ended, as the worker reports it to the server. */
sealed interface Outcome {

    /**
     * The command returned: its results as response data, and the next run of a reoccurring command.
     *
     * @param responseData the results as a JSON object ({@link JavaValues#toJson})
     * @param nextRun when a {@code Reoccurring} command runs again (in the future), or {@code null}
     */
    record Completed(Map<String, Object> responseData, Date nextRun) implements Outcome {
    }

    /**
     * The attempt failed.
     *
     * @param message the error record's message
     * @param stacktrace the error record's stack trace (Java's text of it)
     * @param retry {@code false} when retrying cannot help (the server then ends the job ERROR at once)
     * @param error what was thrown (given to {@code onCommandError} callbacks)
     */
    record Failed(String message, String stacktrace, boolean retry, Throwable error) implements Outcome {
    }
}
