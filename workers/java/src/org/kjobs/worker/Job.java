package org.kjobs.worker;

import java.util.Map;

/**
 * A job as a claim hands it over (docs/workers.md, "Claim"): what the worker needs to run it and report its outcome.
 *
 * @param id the job's id
 * @param command the command's class name
 * @param containerId the container (KIE's deployment id), or {@code null}
 * @param businessKey the business key, or {@code null}
 * @param processInstanceId the process instance that scheduled it, or {@code null}
 * @param attempt this run's number, 1 for the first
 * @param retries retries left after this run
 * @param requestData the request data as JSON values ({@link Json})
 * @param lease the lease every later call about the job carries
 */
record Job(
        long id,
        String command,
        String containerId,
        String businessKey,
        Long processInstanceId,
        int attempt,
        int retries,
        Map<String, Object> requestData,
        String lease) {

    /** How log lines name it. */
    String describe() {
        return "job " + id + " " + command;
    }
}
