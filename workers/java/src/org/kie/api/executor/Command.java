package org.kie.api.executor;

/**
 * A job's business logic, as KIE's executor runs it: the class named by the job's command, created by its public
 * no-argument constructor for each run.
 *
 * <p>Part of kjobs' own implementation of KIE's {@code org.kie.api.executor} command API (same names, signatures
 * and serial version UIDs as KIE's {@code kie-api}), so that command classes compiled against KIE run unchanged in
 * the kjobs Java worker.
 */
public interface Command {

    /**
     * Runs the command.
     *
     * @param ctx the job's request data, as Java values
     * @return the job's response data, or {@code null} for none
     * @throws Exception a failed attempt, retried while the job has retries left
     */
    ExecutionResults execute(CommandContext ctx) throws Exception;
}
