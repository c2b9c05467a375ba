package org.kjobs.worker;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs commands with no server: each job as the worker runs a claimed one ({@link CommandRun}), its outcome judged
 * as the server would (a failure with retries left is RETRYING, else ERROR), its callbacks called accordingly, and
 * the outcome printed as a line of JSON. For trying a command on given request data, and for the tests.
 */
final class LocalRun {

    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private LocalRun() {
    }

    /** {@code --run CLASS --data JSON}: exit status 0 when the job ends DONE, 1 otherwise. */
    static int one(ClassLoader loader, String command, String data, int retries, String containerId,
            PrintStream out) {
        Map<String, Object> requestData;
        try {
            requestData = Json.parseObject(data);
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException("--data is not a JSON object: " + e.getMessage());
        }
        Job job = new Job(1, command, containerId, null, null, 1, retries, requestData, "local");
        Map<String, Object> outcome = run(job, loader);
        out.println(Json.write(outcome));
        return "DONE".equals(outcome.get("status")) ? 0 : 1;
    }

    /** {@code --run-jobs FILE}: one line per job of the array. */
    static void many(ClassLoader loader, String file, InputStream stdin, PrintStream out) throws IOException {
        String text = file.equals("-") ? new String(stdin.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(Path.of(file));
        Object jobs;
        try {
            jobs = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException("--run-jobs " + file + " is not JSON: " + e.getMessage());
        }
        if (!(jobs instanceof List)) {
            throw new IllegalArgumentException("--run-jobs " + file + ": expected a JSON array of jobs");
        }
        long id = 0;
        for (Object item : (List<?>) jobs) {
            id++;
            if (!(item instanceof Map) || !(((Map<?, ?>) item).get("command") instanceof String)) {
                throw new IllegalArgumentException("--run-jobs " + file + ": job " + id + " has no \"command\"");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> spec = (Map<String, Object>) item;
            Object data = spec.get("requestData");
            @SuppressWarnings("unchecked")
            Map<String, Object> requestData = data instanceof Map ? (Map<String, Object>) data : new LinkedHashMap<>();
            Object retries = spec.get("retries");
            Job job = new Job(id, (String) spec.get("command"), (String) spec.get("containerId"),
                    (String) spec.get("businessKey"), null, 1,
                    retries instanceof Number ? ((Number) retries).intValue() : 0, requestData, "local");
            out.println(Json.write(run(job, loader)));
            out.flush();
        }
    }

    private static Map<String, Object> run(Job job, ClassLoader loader) {
        CommandRun run = new CommandRun(job, loader);
        Outcome outcome = run.run();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("command", job.command());
        if (outcome instanceof Outcome.Completed completed) {
            json.put("status", "DONE");
            json.put("responseData", completed.responseData());
            json.put("nextRun", completed.nextRun() == null ? null
                    : ISO_MILLIS.format(completed.nextRun().toInstant()));
            json.put("callbacks", run.callDone());
        } else {
            Outcome.Failed failed = (Outcome.Failed) outcome;
            String status = failed.retry() && job.retries() > 0 ? "RETRYING" : "ERROR";
            json.put("status", status);
            json.put("message", failed.message());
            json.put("stacktrace", failed.stacktrace());
            json.put("retry", failed.retry());
            json.put("callbacks", status.equals("ERROR") ? run.callError(failed.error()) : List.of());
        }
        return json;
    }
}
