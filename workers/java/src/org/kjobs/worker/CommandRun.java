package org.kjobs.worker;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.kie.api.executor.Command;
import org.kie.api.executor.CommandCallback;
import org.kie.api.executor.CommandContext;
import org.kie.api.executor.ExecutionResults;
import org.kie.api.executor.Reoccurring;

/**
 * One run of a job's command, as KIE's executor does it: the request data in a {@link CommandContext}, a new
 * instance of the command class by its no-argument constructor, {@code execute}, the results as response data, the
 * next run of a {@link Reoccurring} command; then, once the server has recorded the outcome, the job's
 * {@link CommandCallback}s.
 *
 * <p>Not thread-safe: one thread runs the command, then calls the callbacks.
 */
final class CommandRun {

    /** A class of KIE's engine (process runtime, rules) named by a missing-class error. */
    private static final Pattern KIE_ENGINE_CLASS = Pattern.compile("\\b((?:org[./]kie|org[./]jbpm|org[./]drools)[./][\\w./$]+)");

    private final Job job;
    private final ClassLoader loader;
    private CommandContext context;
    private ExecutionResults results;
    private final List<CommandCallback> callbacks = new ArrayList<>();
    private final List<String> callbackNames = new ArrayList<>();
    private boolean reoccurring;

    CommandRun(Job job, ClassLoader loader) {
        this.job = job;
        this.loader = loader;
    }

    Job job() {
        return job;
    }

    /** Whether the command (once made) is {@link Reoccurring}. */
    boolean reoccurring() {
        return reoccurring;
    }

    /** Runs the command in this thread (with the command loader as its context class loader). */
    Outcome run() {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return runCommand();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private Outcome runCommand() {
        try {
            context = new CommandContext(JavaValues.toJava(job.requestData()));
        } catch (JavaValues.UnsupportedValueException e) {
            return workerFailure(e.getMessage(), false);
        }
        addExecutorKeys(context.getData());
        Object names = context.getData("callbacks");
        if (names != null && !(names instanceof String)) {
            return workerFailure("request data callbacks must be a comma-separated string of CommandCallback class "
                    + "names, not " + Json.write(job.requestData().get("callbacks")), false);
        }
        for (String name : names == null ? new String[0] : ((String) names).split(",")) {
            if (name.isBlank()) {
                continue;
            }
            Object callback;
            try {
                callback = instantiate(name.trim(), CommandCallback.class);
            } catch (Refused refused) {
                return refused.outcome;
            }
            callbacks.add((CommandCallback) callback);
            callbackNames.add(name.trim());
        }
        Command command;
        try {
            command = (Command) instantiate(job.command(), Command.class);
        } catch (Refused refused) {
            return refused.outcome;
        }
        reoccurring = command instanceof Reoccurring;
        try {
            results = command.execute(context);
        } catch (Throwable thrown) {
            return commandFailure(thrown);
        }
        Map<String, Object> responseData;
        try {
            responseData = JavaValues.toJson(results == null ? null : results.getData());
        } catch (JavaValues.UnsupportedValueException e) {
            return workerFailure(e.getMessage(), false);
        }
        return new Outcome.Completed(responseData, nextRun(command));
    }

    /**
     * Keys KIE's executor puts in the context besides the request data: the container's class loader, and the
     * job's container, process instance and business key where the request data lacks them.
     */
    private void addExecutorKeys(Map<String, Object> data) {
        data.put("ClassLoader", loader);
        if (job.containerId() != null) {
            data.putIfAbsent("deploymentId", job.containerId());
        }
        if (job.processInstanceId() != null) {
            data.putIfAbsent("processInstanceId", job.processInstanceId());
        }
        if (job.businessKey() != null) {
            data.putIfAbsent("businessKey", job.businessKey());
        }
    }

    /** When a reoccurring command runs next: its answer, if in the future. */
    private Date nextRun(Command command) {
        if (!(command instanceof Reoccurring)) {
            return null;
        }
        Date next;
        try {
            next = ((Reoccurring) command).getScheduleTime();
        } catch (Throwable thrown) {
            Log.warn(job.describe() + ": getScheduleTime() threw, no next run: " + thrown);
            return null;
        }
        if (next != null && !next.after(new Date())) {
            Log.warn(job.describe() + ": getScheduleTime() answered " + next.toInstant()
                    + ", not in the future: no next run (as KIE)");
            return null;
        }
        return next;
    }

    /** A failure the command's class itself cannot be blamed for: a sentence, retried only when {@code retry}. */
    private Outcome.Failed workerFailure(String message, boolean retry) {
        return withCause(message, null, retry);
    }

    /**
     * A failure the command threw: its {@code toString()} as message, its stack trace; not retried when it needs
     * KIE's engine, which no retry here can provide.
     */
    private Outcome.Failed commandFailure(Throwable thrown) {
        String missing = missingEngineClass(thrown);
        if (missing != null) {
            return new Outcome.Failed(needsEngine(job.command(), missing), stackTrace(thrown), false, thrown);
        }
        return new Outcome.Failed(thrown.toString(), stackTrace(thrown), true, thrown);
    }

    /** The message of a failure for want of a class of KIE that the worker does not provide. */
    private static String needsEngine(String className, String missing) {
        if (missing.startsWith("org.kie.api.executor.")) {
            return className + " needs " + missing + " of KIE's kie-api: the kjobs Java worker provides only Command, "
                    + "CommandContext, ExecutionResults, CommandCallback and Reoccurring of org.kie.api.executor";
        }
        return className + " needs KIE's process runtime or engine (missing class " + missing + "): the kjobs Java "
                + "worker provides only KIE's command API (org.kie.api.executor)";
    }

    /** The class of KIE's engine whose absence caused {@code thrown}, if that is why it failed. */
    static String missingEngineClass(Throwable thrown) {
        for (Throwable cause = thrown; cause != null; cause = cause.getCause()) {
            if (cause instanceof NoClassDefFoundError || cause instanceof ClassNotFoundException) {
                Matcher matcher = KIE_ENGINE_CLASS.matcher(String.valueOf(cause.getMessage()));
                if (matcher.find()) {
                    return matcher.group(1).replace('/', '.');
                }
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return null;
    }

    /** Refusal to make an instance of a named class, with the outcome it gives the job. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Outcome.Failed outcome;

        Refused(Outcome.Failed outcome) {
            super(outcome.message(), null, false, false);
            this.outcome = outcome;
        }
    }

    /** A new instance of class {@code name}, which must implement {@code type}, by its no-argument constructor. */
    private Object instantiate(String name, Class<?> type) throws Refused {
        String kind = type.getSimpleName();
        Class<?> found;
        try {
            found = Class.forName(name, true, loader);
        } catch (ClassNotFoundException e) {
            // KIE's own message for an unknown command; retried, as KIE does: the jar may be deployed meanwhile.
            throw new Refused(withCause("Unknown " + kind + " implementation with name '" + name + "' (not in "
                    + "--classpath)", e, true));
        } catch (LinkageError e) {
            String missing = missingEngineClass(e);
            if (missing != null) {
                throw new Refused(withCause(needsEngine(name, missing), e, false));
            }
            if (e instanceof ExceptionInInitializerError && e.getCause() != null) {
                throw new Refused(commandFailure(e.getCause()));
            }
            throw new Refused(withCause("cannot load " + kind + " " + name + ": " + e, e, true));
        }
        if (!type.isAssignableFrom(found)) {
            throw new Refused(withCause(name + " does not implement " + type.getName(), null, false));
        }
        if (found.isInterface() || Modifier.isAbstract(found.getModifiers())) {
            throw new Refused(withCause(name + " is abstract: name a concrete class", null, false));
        }
        Constructor<?> constructor;
        try {
            constructor = found.getConstructor();
        } catch (NoSuchMethodException e) {
            throw new Refused(withCause(name + " has no public no-argument constructor, which KIE's executor "
                    + "needs to create a " + kind + " per run", null, false));
        }
        try {
            return constructor.newInstance();
        } catch (InvocationTargetException e) {
            throw new Refused(commandFailure(e.getCause()));
        } catch (IllegalAccessException e) {
            throw new Refused(withCause(name + " is not a public class: " + e.getMessage(), e, false));
        } catch (InstantiationException e) {
            throw new Refused(withCause(name + " cannot be instantiated: " + e, e, false));
        }
    }

    private static Outcome.Failed withCause(String message, Throwable cause, boolean retry) {
        IllegalArgumentException error = new IllegalArgumentException(message, cause);
        // The worker's own frames say nothing to the user: the message (and the cause's trace) do.
        error.setStackTrace(new StackTraceElement[0]);
        return new Outcome.Failed(message, stackTrace(error), retry, error);
    }

    /** Calls {@code onCommandDone} of the job's callbacks (after the server recorded the job DONE). */
    List<String> callDone() {
        if (callbacks.isEmpty()) {
            return List.of();
        }
        ExecutionResults given = results != null ? results : new ExecutionResults();
        // KIE's executor adds it to the results its callbacks see (not to the stored response data).
        if (given.getData() != null) {
            given.setData("CompletedAt", new Date());
        }
        return call("onCommandDone", callback -> callback.onCommandDone(context, given));
    }

    /** Calls {@code onCommandError} of the job's callbacks (after the server recorded the job ERROR). */
    List<String> callError(Throwable error) {
        return call("onCommandError", callback -> callback.onCommandError(context, error));
    }

    private interface Call {
        void on(CommandCallback callback) throws Throwable;
    }

    /** Calls each callback in order; one that throws is logged, the others still run. Answers what happened. */
    private List<String> call(String method, Call call) {
        List<String> report = new ArrayList<>();
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            for (int i = 0; i < callbacks.size(); i++) {
                String name = callbackNames.get(i);
                try {
                    call.on(callbacks.get(i));
                    report.add(name + "." + method);
                } catch (Throwable thrown) {
                    Log.warn(job.describe() + ": callback " + name + "." + method + " threw: " + stackTrace(thrown));
                    report.add(name + "." + method + " threw " + thrown);
                }
            }
        } finally {
            thread.setContextClassLoader(previous);
        }
        return report;
    }

    /** Java's text of a stack trace, as KIE stores it in an error record. */
    static String stackTrace(Throwable thrown) {
        StringWriter text = new StringWriter();
        try (PrintWriter out = new PrintWriter(text)) {
            thrown.printStackTrace(out);
        }
        return text.toString();
    }
}
