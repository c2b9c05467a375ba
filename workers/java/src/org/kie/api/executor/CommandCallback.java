package org.kie.api.executor;

/**
 * Told how a job ended: named by class in the request data's {@code callbacks} (comma-separated), created by its
 * public no-argument constructor.
 */
public interface CommandCallback {

    /**
     * Called after the job's command succeeded and its results were stored.
     *
     * @param ctx the context the command ran with
     * @param results the command's results
     */
    void onCommandDone(CommandContext ctx, ExecutionResults results);

    /**
     * Called only after the last attempt failed: no retry follows.
     *
     * @param ctx the context the command ran with
     * @param exception what the last attempt threw
     */
    void onCommandError(CommandContext ctx, Throwable exception);
}
