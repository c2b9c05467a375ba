package org.kjobs.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The worker's loop (docs/workers.md, "What a worker does"): claims jobs with a long poll for its free slots, runs each
 * in a thread of its own, heartbeats all running jobs at once and interrupts those the server says are cancelled or
 * lost, reports each outcome, then calls the job's callbacks. Stops on {@link #stop()}: no more claims, running jobs
 * get the stop timeout to finish, the rest are interrupted and given back.
 */
final class Worker {

    /** How long a claim waits on the server for a due job (the protocol's maximum is 60000). */
    static final int CLAIM_WAIT_MS = 20_000;
    /** At most this many jobs per claim (the protocol's maximum). */
    private static final int MAX_CLAIM = 100;
    /** The lease length assumed until the first claim answers. */
    private static final long DEFAULT_HEARTBEAT_MS = 5_000;
    /** A dropped job whose thread still runs after this long is logged: its command ignores interrupts. */
    private static final long IGNORED_INTERRUPT_MS = 10_000;

    private final WorkerProtocol protocol;
    private final ClassLoader loader;
    private final String name;
    private final List<String> containers;
    private final List<String> commands;
    private final int concurrency;
    private final long stopTimeoutMs;

    private final Semaphore slots;
    private final Map<Long, Running> running = new ConcurrentHashMap<>();
    private final CountDownLatch loopEnded = new CountDownLatch(1);
    private volatile boolean stopping;
    private volatile boolean stopped;
    private volatile long heartbeatMs = DEFAULT_HEARTBEAT_MS;
    private volatile long stopDeadline = Long.MAX_VALUE;
    private volatile Thread claimThread;

    /** A job this worker holds, from its claim until its outcome is reported or it is dropped. */
    private static final class Running {
        enum State { RUNNING, REPORTING, DROPPED }

        final Job job;
        final long startedAt = System.nanoTime();
        Thread thread;
        private State state = State.RUNNING;
        private long droppedAt;
        private boolean warned;

        Running(Job job) {
            this.job = job;
        }

        /** Stops a running command (interrupting it); answers false when its outcome is already on its way. */
        synchronized boolean drop() {
            if (state != State.RUNNING) {
                return false;
            }
            state = State.DROPPED;
            droppedAt = System.nanoTime();
            thread.interrupt();
            return true;
        }

        /** Marks the outcome as being reported; false when the job was dropped meanwhile. */
        synchronized boolean beginReporting() {
            if (state == State.DROPPED) {
                return false;
            }
            state = State.REPORTING;
            return true;
        }

        synchronized State state() {
            return state;
        }
    }

    Worker(WorkerProtocol protocol, ClassLoader loader, String name, List<String> containers, List<String> commands,
            int concurrency, long stopTimeoutMs) {
        this.protocol = protocol;
        this.loader = loader;
        this.name = name;
        this.containers = List.copyOf(containers);
        this.commands = List.copyOf(commands);
        this.concurrency = concurrency;
        this.stopTimeoutMs = stopTimeoutMs;
        this.slots = new Semaphore(concurrency);
    }

    /** A usage or configuration error the server answered: the worker cannot go on. */
    static final class Fatal extends Exception {
        private static final long serialVersionUID = 1L;

        Fatal(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Claims and runs jobs until {@link #stop()}; throws when the server refuses this worker's claims. */
    void run() throws Fatal {
        claimThread = Thread.currentThread();
        Thread heartbeats = new Thread(this::heartbeatLoop, "kjobs-heartbeats");
        heartbeats.setDaemon(true);
        heartbeats.start();
        Log.info("kjobs Java worker " + name + " claiming jobs of container" + (containers.size() == 1 ? " " : "s ")
                + String.join(", ", containers) + (commands.isEmpty() ? "" : " (commands " + String.join(", ",
                commands) + ")") + " from " + protocol.base() + ", " + concurrency + " at once");
        Backoff backoff = new Backoff();
        try {
            while (!stopping) {
                int free;
                try {
                    slots.acquire();
                } catch (InterruptedException e) {
                    break;
                }
                free = 1 + slots.drainPermits();
                if (free > MAX_CLAIM) {
                    slots.release(free - MAX_CLAIM);
                    free = MAX_CLAIM;
                }
                WorkerProtocol.Claimed claimed;
                try {
                    claimed = protocol.claim(name, containers, commands, free, CLAIM_WAIT_MS);
                } catch (InterruptedException e) {
                    slots.release(free);
                    break;
                } catch (ProtocolException e) {
                    slots.release(free);
                    if (e.kind != ProtocolException.Kind.UNAVAILABLE) {
                        throw new Fatal("the server refused this worker's claim: " + e.getMessage() + hint(e), e);
                    }
                    long waitMs = backoff.next(e);
                    Log.warn("claim failed, next try in " + waitMs + " ms: " + e.getMessage());
                    if (!sleep(waitMs)) {
                        break;
                    }
                    continue;
                }
                if (backoff.failing()) {
                    Log.info("server reachable again: claiming");
                }
                backoff.reset();
                if (claimed.heartbeatMs() > 0) {
                    heartbeatMs = claimed.heartbeatMs();
                }
                slots.release(free - Math.min(free, claimed.jobs().size()));
                for (int i = 0; i < claimed.jobs().size(); i++) {
                    Job job = claimed.jobs().get(i);
                    if (i >= free) {
                        release(job, "the server handed out more jobs than the " + free + " claimed");
                    } else if (stopping) {
                        Thread.interrupted(); // the stop's interrupt came after the answer: release needs a call
                        release(job, "the worker is stopping");
                        slots.release();
                    } else {
                        start(job);
                    }
                }
            }
        } finally {
            Thread.interrupted();
            loopEnded.countDown();
        }
    }

    private static String hint(ProtocolException e) {
        return switch (e.status) {
            case 401 -> " (check --user and KJOBS_PASSWORD)";
            case 403 -> " (the user needs the role worker, granted these containers, or kie-server)";
            case 404 -> " (is --url the REST root of a kjobs server that has the worker protocol?)";
            default -> "";
        };
    }

    /** Runs a claimed job in a thread of its own (daemon: a command that never ends does not hold the exit). */
    private void start(Job job) {
        Running entry = new Running(job);
        entry.thread = new Thread(() -> execute(entry), "kjobs-job-" + job.id());
        entry.thread.setDaemon(true);
        running.put(job.id(), entry);
        entry.thread.start();
    }

    private void execute(Running entry) {
        Job job = entry.job;
        try {
            CommandRun run = new CommandRun(job, loader);
            Outcome outcome = run.run();
            if (!entry.beginReporting()) {
                return; // cancelled, lost or given back: the heartbeat loop or stop() said so in the log
            }
            Thread.interrupted(); // an interrupt the command left set must not cut the report's call
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - entry.startedAt);
            if (outcome instanceof Outcome.Completed completed) {
                outcome = complete(run, completed, ms);
            }
            if (outcome instanceof Outcome.Failed failed) {
                fail(run, failed, ms);
            }
        } catch (RuntimeException | Error e) {
            Log.error(job.describe() + ": the worker failed running it: " + CommandRun.stackTrace(e));
        } finally {
            running.remove(job.id());
            slots.release();
        }
    }

    /** Reports a completion; answers a failure to report instead when the server refuses the results. */
    private Outcome complete(CommandRun run, Outcome.Completed completed, long ms) {
        Job job = run.job();
        String status;
        try {
            status = reportWithRetries(() -> protocol.complete(job, completed.responseData(), completed.nextRun()));
        } catch (ProtocolException e) {
            if (e.kind == ProtocolException.Kind.REFUSED) {
                String message = e.status == 413
                        ? "the command's results are larger than the server accepts (--max-data-size): store large "
                                + "results elsewhere and return a reference"
                        : "the server refused the command's results: " + e.getMessage();
                IllegalArgumentException error = new IllegalArgumentException(message, e);
                return new Outcome.Failed(message, CommandRun.stackTrace(error), false, error);
            }
            unreported(job, "DONE", e);
            return null;
        }
        Log.info(job.describe() + " " + status + " in " + ms + " ms (attempt " + job.attempt() + ")"
                + (completed.nextRun() == null ? "" : ", next run at " + completed.nextRun().toInstant()));
        run.callDone();
        return null;
    }

    private void fail(CommandRun run, Outcome.Failed failed, long ms) {
        Job job = run.job();
        String status;
        try {
            status = reportWithRetries(() -> protocol.fail(job, failed.message(), failed.stacktrace(),
                    failed.retry()));
        } catch (ProtocolException e) {
            unreported(job, "failed (" + failed.message() + ")", e);
            return;
        }
        Log.warn(job.describe() + " failed in " + ms + " ms (attempt " + job.attempt() + "): " + failed.message()
                + (failed.retry() ? "" : " (not retried)") + "; now " + status);
        if ("ERROR".equals(status)) {
            run.callError(failed.error());
            if (run.reoccurring()) {
                Log.warn(job.describe() + " is Reoccurring and ended ERROR: KIE would schedule its next run, but the "
                        + "worker protocol's fail carries no next run, so none is scheduled");
            }
        }
    }

    private void unreported(Job job, String outcome, ProtocolException e) {
        if (e.kind == ProtocolException.Kind.LEASE_LOST) {
            Log.warn(job.describe() + " " + outcome + ", but its lease was lost meanwhile (cancelled, rescued or "
                    + "requeued): outcome not recorded");
        } else {
            Log.error(job.describe() + " " + outcome + ", but the outcome could not be reported: " + e.getMessage()
                    + " (the server will rescue the job when its lease ends)");
        }
    }

    private interface Call {
        String call() throws ProtocolException, InterruptedException;
    }

    /**
     * Makes a report call, trying again while the server is unavailable (the heartbeats keep the lease meanwhile);
     * gives up past the stop deadline. Throws for an answer that settles it (409, 4xx) or on giving up.
     */
    private String reportWithRetries(Call call) throws ProtocolException {
        Backoff backoff = new Backoff();
        for (;;) {
            try {
                return call.call();
            } catch (InterruptedException e) {
                // Only stop() interrupts a reporting thread's neighbours, never this one: try again.
                Thread.interrupted();
            } catch (ProtocolException e) {
                if (e.kind != ProtocolException.Kind.UNAVAILABLE) {
                    throw e;
                }
                long waitMs = backoff.next(e);
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs) - stopDeadline > 0) {
                    throw e;
                }
                Log.warn("report failed, next try in " + waitMs + " ms: " + e.getMessage());
                try {
                    Thread.sleep(waitMs);
                } catch (InterruptedException interrupted) {
                    Thread.interrupted();
                }
            }
        }
    }

    /** Renews the leases of all held jobs every heartbeatMs / 2, and stops the jobs the server says to. */
    private void heartbeatLoop() {
        Backoff backoff = new Backoff();
        long lastBeat = System.nanoTime();
        while (!stopped) {
            // Short naps, not one of heartbeatMs / 2: the first claim's answer may shorten the interval.
            try {
                Thread.sleep(Math.min(100, Math.max(10, heartbeatMs / 2)));
            } catch (InterruptedException e) {
                return;
            }
            if (System.nanoTime() - lastBeat < TimeUnit.MILLISECONDS.toNanos(heartbeatMs / 2)) {
                continue;
            }
            lastBeat = System.nanoTime();
            List<Job> held = new ArrayList<>();
            for (Running entry : running.values()) {
                Running.State state = entry.state();
                if (state != Running.State.DROPPED) {
                    held.add(entry.job);
                } else if (!entry.warned && entry.thread.isAlive()
                        && System.nanoTime() - entry.droppedAt > TimeUnit.MILLISECONDS.toNanos(IGNORED_INTERRUPT_MS)) {
                    entry.warned = true;
                    Log.warn(entry.job.describe() + " still runs " + IGNORED_INTERRUPT_MS + " ms after its "
                            + "interruption (its command ignores interrupts): its slot stays taken until it ends");
                }
            }
            if (held.isEmpty()) {
                continue;
            }
            List<WorkerProtocol.Lease> leases;
            try {
                leases = protocol.heartbeat(held);
            } catch (InterruptedException e) {
                return;
            } catch (ProtocolException e) {
                if (!backoff.failing()) {
                    Log.warn("heartbeat failed (the leases of " + held.size() + " jobs are not renewed; trying "
                            + "again every " + Math.max(50, heartbeatMs / 2) + " ms): " + e.getMessage());
                }
                backoff.next(e);
                continue;
            }
            if (backoff.failing()) {
                Log.info("heartbeat answered again");
            }
            backoff.reset();
            for (WorkerProtocol.Lease lease : leases) {
                Running entry = running.get(lease.id());
                if (entry == null || (lease.held() && !lease.cancelled())) {
                    continue;
                }
                if (entry.drop()) {
                    Log.warn(entry.job.describe() + (lease.cancelled() ? " was CANCELLED on the server"
                            : " lost its lease (rescued or requeued elsewhere)") + ": interrupting it; its outcome "
                            + "will not be reported");
                }
            }
        }
    }

    /** Gives a held job back to the server unrun (QUEUED again). */
    private void release(Job job, String why) {
        try {
            protocol.release(job);
            Log.info(job.describe() + " given back (" + why + ")");
        } catch (ProtocolException e) {
            Log.warn(job.describe() + " could not be given back (" + why + "): " + e.getMessage()
                    + (e.kind == ProtocolException.Kind.LEASE_LOST ? "" : "; it is rescued when its lease ends"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops: no more claims (the claim under way is cut), running jobs get the stop timeout to finish, then the
     * rest are interrupted and given back. Returns when done; safe to call from a shutdown hook, once.
     */
    void stop() {
        stopping = true;
        stopDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(stopTimeoutMs);
        Thread claimer = claimThread;
        if (claimer != null) {
            claimer.interrupt();
        }
        try {
            loopEnded.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int waitingFor = running.size();
        Log.info("stopping: no more claims; waiting up to " + stopTimeoutMs + " ms for " + waitingFor
                + " running job" + (waitingFor == 1 ? "" : "s"));
        while (anyRunning() && System.nanoTime() - stopDeadline < 0) {
            pause(10);
        }
        List<Running> left = new ArrayList<>();
        for (Running entry : running.values()) {
            if (entry.drop()) {
                left.add(entry);
            }
        }
        // A moment for interrupted commands to end before another worker may take their jobs.
        long graceEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        for (Running entry : left) {
            long remaining = graceEnd - System.nanoTime();
            if (remaining > 0) {
                try {
                    entry.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)));
                } catch (InterruptedException e) {
                    break;
                }
            }
        }
        for (Running entry : left) {
            release(entry.job, "stop timeout reached");
        }
        // Outcomes being reported get until the deadline (and their call's own timeout) to land.
        long reportEnd = Math.max(stopDeadline, System.nanoTime()) + TimeUnit.SECONDS.toNanos(5);
        while (running.values().stream().anyMatch(entry -> entry.state() == Running.State.REPORTING)
                && System.nanoTime() - reportEnd < 0) {
            pause(10);
        }
        stopped = true;
        Log.info("stopped: " + (waitingFor - left.size()) + " of " + waitingFor + " running jobs finished, "
                + left.size() + " given back");
    }

    private boolean anyRunning() {
        return running.values().stream().anyMatch(entry -> entry.state() != Running.State.DROPPED);
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sleeps, or answers false when the worker is stopping (its interrupt). */
    private boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
            return !stopping;
        } catch (InterruptedException e) {
            return false;
        }
    }
}
