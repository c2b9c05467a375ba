package org.kjobs.worker;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The HTTP side of the kjobs worker protocol (docs/workers.md, version 1): one method per call, JSON in and
 * out, basic authentication. Everything the worker knows of the wire is in this class.
 *
 * <p>Each method answers the server's answer, or throws a {@link ProtocolException} saying whether to try again
 * ({@code UNAVAILABLE}), drop the job ({@code LEASE_LOST}), or give up ({@code REFUSED}). Thread-safe.
 */
final class WorkerProtocol {

    /** Where the protocol lives under the REST root. */
    static final String PATH = "/server/kjobs/workers";

    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final String base;
    private final String authorization;
    private final HttpClient http;

    /** The server's answer to a claim. */
    record Claimed(long heartbeatMs, List<Job> jobs) {
    }

    /** The server's word on one job of a heartbeat. */
    record Lease(long id, boolean held, boolean cancelled) {
    }

    /**
     * @param restRoot the REST root, e.g. {@code http://127.0.0.1:8080/kie-server/services/rest}
     * @param user the basic-auth user, or {@code null} for none
     * @param password its password ({@code null} for an empty one)
     */
    WorkerProtocol(String restRoot, String user, String password) {
        String root = restRoot.endsWith("/") ? restRoot.substring(0, restRoot.length() - 1) : restRoot;
        this.base = root + PATH;
        URI.create(base); // refuses a malformed URL now, not at the first call
        this.authorization = user == null ? null
                : "Basic " + Base64.getEncoder().encodeToString(
                        (user + ":" + (password == null ? "" : password)).getBytes(StandardCharsets.UTF_8));
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** Where the calls go: the REST root and {@link #PATH}. */
    String base() {
        return base;
    }

    /** {@code POST claim}: up to {@code max} due jobs, waiting up to {@code waitMs} for one (a long poll). */
    Claimed claim(String worker, List<String> containers, List<String> commands, int max, int waitMs)
            throws ProtocolException, InterruptedException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("worker", worker);
        body.put("containers", containers);
        if (!commands.isEmpty()) {
            body.put("commands", commands);
        }
        body.put("max", max);
        body.put("waitMs", waitMs);
        Map<String, Object> answer = call("/claim", body, CALL_TIMEOUT.plusMillis(waitMs));
        try {
            long heartbeatMs = number(answer, "heartbeatMs").longValue();
            List<Job> jobs = new ArrayList<>();
            for (Object item : list(answer, "jobs")) {
                jobs.add(job(map(item, "job")));
            }
            return new Claimed(heartbeatMs, jobs);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(ProtocolException.Kind.REFUSED, 200, -1,
                    "the claim's answer is not the worker protocol's: " + e.getMessage(), e);
        }
    }

    /** {@code POST heartbeat}: renews the leases of {@code jobs}; answers the server's word on each. */
    List<Lease> heartbeat(Collection<Job> jobs) throws ProtocolException, InterruptedException {
        List<Object> asked = new ArrayList<>();
        for (Job job : jobs) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("id", job.id());
            entry.put("lease", job.lease());
            asked.add(entry);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("jobs", asked);
        Map<String, Object> answer = call("/heartbeat", body, CALL_TIMEOUT);
        try {
            List<Lease> leases = new ArrayList<>();
            for (Object item : list(answer, "jobs")) {
                Map<String, Object> entry = map(item, "job");
                leases.add(new Lease(number(entry, "id").longValue(), Boolean.TRUE.equals(entry.get("held")),
                        Boolean.TRUE.equals(entry.get("cancelled"))));
            }
            return leases;
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(ProtocolException.Kind.REFUSED, 200, -1,
                    "the heartbeat's answer is not the worker protocol's: " + e.getMessage(), e);
        }
    }

    /** {@code POST jobs/{id}/complete}: answers the job's status (DONE). */
    String complete(Job job, Map<String, Object> responseData, Date nextRun)
            throws ProtocolException, InterruptedException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("lease", job.lease());
        body.put("responseData", responseData);
        body.put("nextRun", nextRun == null ? null : ISO_MILLIS.format(nextRun.toInstant()));
        return status(call("/jobs/" + job.id() + "/complete", body, CALL_TIMEOUT));
    }

    /** {@code POST jobs/{id}/fail}: answers the job's status (RETRYING or ERROR). */
    String fail(Job job, String message, String stacktrace, boolean retry)
            throws ProtocolException, InterruptedException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("lease", job.lease());
        body.put("message", message);
        body.put("stacktrace", stacktrace);
        body.put("retry", retry);
        return status(call("/jobs/" + job.id() + "/fail", body, CALL_TIMEOUT));
    }

    /** {@code POST jobs/{id}/release}: gives the job back unrun (QUEUED again). */
    void release(Job job) throws ProtocolException, InterruptedException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("lease", job.lease());
        call("/jobs/" + job.id() + "/release", body, CALL_TIMEOUT);
    }

    /** One call: the answer's JSON object ({@code {}} for 204), or the exception its failure means. */
    private Map<String, Object> call(String path, Map<String, Object> body, Duration timeout)
            throws ProtocolException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ProtocolException(ProtocolException.Kind.UNAVAILABLE, 0, -1,
                    "POST " + base + path + ": " + describe(e), e);
        }
        int status = response.statusCode();
        if (status == 204 || (status == 200 && response.body().isBlank())) {
            return Map.of();
        }
        if (status == 200) {
            try {
                return Json.parseObject(response.body());
            } catch (Json.ParseException e) {
                throw new ProtocolException(ProtocolException.Kind.REFUSED, status, -1,
                        "POST " + base + path + " answered 200 with no JSON object (" + e.getMessage()
                                + "): is this the REST root of a kjobs server?", e);
            }
        }
        String message = "POST " + base + path + " answered " + status + ": " + errorOf(response.body());
        ProtocolException.Kind kind = status == 409 ? ProtocolException.Kind.LEASE_LOST
                : status >= 500 || status == 429 || status == 408 ? ProtocolException.Kind.UNAVAILABLE
                : ProtocolException.Kind.REFUSED;
        throw new ProtocolException(kind, status, retryAfterMs(response), message, null);
    }

    private static String describe(IOException e) {
        String text = e.getMessage() == null || e.getMessage().isBlank() ? "" : ": " + e.getMessage();
        return e.getClass().getSimpleName() + text;
    }

    /**
     * The sentence of an error answer (kjobs answers errors as a JSON string; {@code {"error": ...}} is read too), or
     * the start of whatever else it holds.
     */
    private static String errorOf(String body) {
        try {
            Object parsed = Json.parse(body);
            if (parsed instanceof String) {
                return (String) parsed;
            }
            if (parsed instanceof Map<?, ?> map && map.get("error") instanceof String error) {
                return error;
            }
        } catch (Json.ParseException e) {
            // not JSON: show what came
        }
        String text = body.strip();
        return text.isEmpty() ? "(no body)" : text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }

    private static long retryAfterMs(HttpResponse<String> response) {
        return response.headers().firstValue("Retry-After").map(value -> {
            try {
                return Math.min(Long.parseLong(value.trim()), 300) * 1000;
            } catch (NumberFormatException e) {
                return -1L; // an HTTP date: the caller's own backoff serves
            }
        }).orElse(-1L);
    }

    private static String status(Map<String, Object> answer) throws ProtocolException {
        Object status = answer.get("status");
        if (!(status instanceof String)) {
            throw new ProtocolException(ProtocolException.Kind.REFUSED, 200, -1,
                    "the answer names no job status: " + Json.write(answer), null);
        }
        return (String) status;
    }

    private static Job job(Map<String, Object> job) {
        Object requestData = job.get("requestData");
        Object processInstanceId = job.get("processInstanceId");
        Map<String, Object> data = requestData == null ? new LinkedHashMap<>() : map(requestData, "requestData");
        return new Job(
                number(job, "id").longValue(),
                text(job, "command", false),
                text(job, "containerId", true),
                text(job, "businessKey", true),
                processInstanceId == null ? null : number(job, "processInstanceId").longValue(),
                job.get("attempt") == null ? 1 : number(job, "attempt").intValue(),
                job.get("retries") == null ? 0 : number(job, "retries").intValue(),
                data,
                text(job, "lease", false));
    }

    private static Number number(Map<String, Object> map, String key) {
        Object value = map.get(key);
        if (!(value instanceof Number)) {
            throw new IllegalArgumentException(key + " is not a number: " + Json.write(String.valueOf(value)));
        }
        return (Number) value;
    }

    private static String text(Map<String, Object> map, String key, boolean nullable) {
        Object value = map.get(key);
        if (value == null && nullable) {
            return null;
        }
        if (!(value instanceof String)) {
            throw new IllegalArgumentException(key + " is not a string");
        }
        return (String) value;
    }

    private static List<?> list(Map<String, Object> map, String key) {
        Object value = map.get(key);
        if (!(value instanceof List)) {
            throw new IllegalArgumentException(key + " is not a list");
        }
        return (List<?>) value;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value, String what) {
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException(what + " is not an object");
        }
        return (Map<String, Object>) value;
    }
}
