import type { Logger } from 'pino';
import {
  type Cancel,
  type Clock,
  afterFailure,
  callbacksOf,
  cronOf,
  nextCronTime,
  nextOccurrenceOf,
  retryDelaysOf,
  timeoutOf,
  type ClaimedJob,
  type DataMap,
  type NewJob,
} from '../core/index.js';
import type { CommandCallback, CommandContext, CommandDefinition, ParentJob } from '../commands/command.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { Completion, ProgressReport } from '../store/job-store.js';
import { ProgressReporter, toProgressReport } from './progress-reporter.js';
import { context, trace, type Span } from '@opentelemetry/api';
import { ATTRIBUTES, contextOfJob, inSpan, recordError, SpanKind, tracer } from '../observability/tracing.js';
import { runGuarded } from './exit-guard.js';
import { relativeStackTrace } from '../core/stack-trace.js';

/** Raised into a command's signal and recorded as the attempt's error when a run takes too long. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
}

/** The abort reason a command's `signal` carries when its job was cancelled while it ran (a kjobs extension). */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError';
}

/**
 * Thrown by a command, ends its job ERROR at once, whatever retries remain: for failures that another attempt
 * cannot fix (bad input, a refused payment). Any error with `retry: false` counts too (errors of another copy of
 * kjobs, of a worker elsewhere).
 */
export class UnrecoverableError extends Error {
  override name = 'UnrecoverableError';
  readonly retry = false;
}

/** Whether an error asks not to be retried (UnrecoverableError, or any error with `retry: false`). */
export function isUnrecoverable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retry?: unknown }).retry === false;
}

export interface RunnerOptions {
  /** Timeout of a run when the job's data names none; 0 for none. */
  defaultTimeoutMs: number;
  /** Retries of rescheduled reoccurring jobs that name none. */
  defaultRetries: number;
  /** Largest response data a command may return, in bytes of its JSON. */
  maxResponseBytes: number;
  /** The time of outcomes, retry due times and next occurrences. */
  clock: Clock;
  /** At most one progress write per job in this interval. Default 1000 ms. */
  progressIntervalMs?: number;
}

/** What the runner needs of its executor. */
export interface RunnerHost {
  readonly workerId: string;
  /** Frees the job's slot and queues its outcome; resolves to whether the store wrote it. */
  writeOutcome(job: ClaimedJob, completion: Completion): Promise<boolean>;
  emitCompleted(job: ClaimedJob, responseData: DataMap): void;
  emitFailedAttempt(job: ClaimedJob, error: Error, final: boolean): void;
  /** Stores a run's latest progress (fenced on this worker holding the job). */
  writeProgress(job: ClaimedJob, report: ProgressReport, at: number): Promise<unknown>;
  /** The job's parents with their response data (jobs whose data names `dependsOn`). */
  parentsOf(job: ClaimedJob): Promise<ParentJob[]>;
}

/**
 * Runs one job's command and turns how it ended into the job's outcome by KIE's rules: done (and the next
 * occurrence of a reoccurring command), retrying or failed, then the job's callbacks.
 */
export class JobRunner {
  constructor(
    private readonly registry: CommandRegistry,
    private readonly host: RunnerHost,
    private readonly options: RunnerOptions,
    private readonly log: Logger,
  ) {}

  /** Stray errors of this executor's commands whose run had ended: logged, nothing left to fail. */
  private readonly reportLateError = (jobId: number, error: Error): void =>
    this.log.warn({ jobId, err: error }, 'command failed after its run ended (a stray callback or promise)');

  /**
   * Runs the job's command (aborted by `abort`, or by its timeout) and records the outcome, in a span of the trace
   * its schedule started (the traceparent stored with the job), with its callbacks as child spans.
   */
  async runJob(job: ClaimedJob, abort: AbortController): Promise<void> {
    const parent = contextOfJob(job.traceParent);
    const span = tracer().startSpan(
      `kjobs run ${job.command}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTRIBUTES.jobId]: job.id,
          [ATTRIBUTES.command]: job.command,
          [ATTRIBUTES.attempt]: job.executions,
          ...(job.containerId !== null ? { [ATTRIBUTES.container]: job.containerId } : {}),
        },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), () => this.run(job, abort, span));
    } finally {
      span.end();
    }
  }

  private async run(job: ClaimedJob, abort: AbortController, span: Span): Promise<void> {
    const log = this.log.child({ jobId: job.id, command: job.command });
    const progress = new ProgressReporter(
      (report, at) => this.host.writeProgress(job, report, at),
      log,
      this.options.progressIntervalMs,
      this.options.clock,
    );
    const context: CommandContext = {
      jobId: job.id,
      data: structuredClone(job.requestData),
      attempt: job.executions,
      businessKey: job.businessKey,
      containerId: job.containerId,
      scheduledAt: job.scheduledAt,
      signal: abort.signal,
      log,
      parents: [],
      progress: (value, data) => progress.report(toProgressReport(value, data)),
    };
    const command = this.registry.resolve(job.command, job.containerId);
    let cancelTimeout: Cancel | undefined;
    try {
      if (!command) {
        throw new Error(`Unknown Command implementation with name '${job.command}'`);
      }
      if (job.requestData.dependsOn !== undefined) context.parents = await this.host.parentsOf(job);
      const timeoutMs = timeoutOf(job.requestData) ?? this.options.defaultTimeoutMs;
      const timedOut =
        timeoutMs > 0
          ? new Promise<never>((_, reject) => {
              cancelTimeout = this.options.clock.after(
                timeoutMs,
                () => {
                  const error = new JobTimeoutError(`Job ${job.id} timed out after ${timeoutMs} ms`);
                  abort.abort(error);
                  reject(error);
                },
                { keepAlive: true },
              );
            })
          : undefined;
      const runPromise = runGuarded(
        job.id,
        () => Promise.resolve().then(() => command.run(context)),
        this.reportLateError,
      );
      const result = await (timedOut ? Promise.race([runPromise, timedOut]) : runPromise);
      cancelTimeout?.();
      await progress.flush();
      const now = this.options.clock.now();
      const ms = now - (job.startedAt ?? now);
      const responseData = toResponseData(result, this.options.maxResponseBytes);
      const written = await this.host.writeOutcome(job, {
        kind: 'succeed',
        jobId: job.id,
        workerId: this.host.workerId,
        now: this.options.clock.now(),
        responseData,
        reschedule: this.nextOccurrence(job, command),
      });
      span.setAttribute(ATTRIBUTES.outcome, written ? 'DONE' : 'superseded');
      if (written) {
        log.info({ status: 'DONE', ms }, 'job done');
        this.host.emitCompleted(job, responseData);
        await this.runCallbacks(job, (callback) => callback.onCommandDone?.(context, responseData));
      }
    } catch (thrown) {
      cancelTimeout?.();
      await progress.flush();
      const error = toError(thrown);
      recordError(span, error);
      const outcome = await this.recordFailedAttempt(job, error, command, context, log);
      span.setAttribute(ATTRIBUTES.outcome, outcome ?? 'superseded');
    }
  }

  /**
   * Records a failed attempt: RETRYING after the retry delay while retries are left, else ERROR (then the next
   * occurrence of a reoccurring command, and the onCommandError callbacks when `context` says the command ran
   * here). Also used for the attempts of workers that were lost.
   */
  async recordFailedAttempt(
    job: ClaimedJob,
    error: Error,
    command: CommandDefinition | undefined,
    context: CommandContext | undefined,
    log: Logger = this.log,
  ): Promise<'RETRYING' | 'ERROR' | undefined> {
    const now = this.options.clock.now();
    const outcome = afterFailure(job, retryDelaysOf(job.requestData), now, {
      retry: !isUnrecoverable(error),
    });
    const final = outcome.status === 'ERROR';
    const written = await this.host.writeOutcome(job, {
      kind: final ? 'fail' : 'retry',
      jobId: job.id,
      workerId: job.workerId,
      now,
      error: {
        message: error.message,
        stacktrace: relativeStackTrace(error.stack ?? String(error), process.cwd()),
      },
      retries: outcome.retries,
      scheduledAt: outcome.scheduledAt,
      reschedule: final && command ? this.nextOccurrence(job, command) : undefined,
    });
    if (!written) return undefined;
    log.warn(
      { status: outcome.status, ms: now - (job.startedAt ?? now), retriesLeft: outcome.retries, err: error },
      final ? 'job failed' : 'job will be retried',
    );
    this.host.emitFailedAttempt(job, error, final);
    if (final && context) {
      await this.runCallbacks(job, (callback) => callback.onCommandError?.(context, error));
    }
    return final ? 'ERROR' : 'RETRYING';
  }

  /** The next occurrence of a reoccurring command, as a new job (KIE: "Rescheduled reoccurring job"). */
  private nextOccurrence(job: ClaimedJob, command: CommandDefinition): NewJob | undefined {
    const now = this.options.clock.now();
    let next: Date | number | null | undefined;
    try {
      const cron = cronOf(job.requestData);
      // From now, not from the missed time: occurrences missed while nothing ran are run once, not many times.
      if (cron) next = nextCronTime(cron, now);
      else if (command.nextRunAt) next = command.nextRunAt({ data: job.requestData, jobId: job.id, now });
      else return undefined;
    } catch (error) {
      this.log.warn({ jobId: job.id, err: error }, 'reoccurring command gave no next run');
      return undefined;
    }
    if (next === null || next === undefined) return undefined;
    const at = next instanceof Date ? next.getTime() : next;
    if (!Number.isFinite(at)) return undefined;
    return nextOccurrenceOf(job, at, { retries: this.options.defaultRetries, now });
  }

  /** Calls the job's callbacks (request data `callbacks`) in order; one that fails is logged, not fatal. */
  private async runCallbacks(job: ClaimedJob, call: (callback: CommandCallback) => unknown): Promise<void> {
    let names: string[];
    try {
      names = callbacksOf(job.requestData);
    } catch {
      return;
    }
    for (const name of names) {
      const callback = this.registry.resolveCallback(name, job.containerId);
      if (!callback) {
        this.log.warn({ jobId: job.id, callback: name }, 'unknown callback');
        continue;
      }
      try {
        await inSpan(
          `kjobs callback ${name}`,
          { attributes: { [ATTRIBUTES.callback]: name, [ATTRIBUTES.jobId]: job.id } },
          async () => {
            await call(callback);
          },
        );
      } catch (error) {
        this.log.warn({ jobId: job.id, callback: name, err: error }, 'callback failed');
      }
    }
  }
}

export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : `Command threw ${JSON.stringify(thrown)}`);
}

/** A command's result as response data: a map, or an empty map for nothing. Refuses what cannot be stored. */
function toResponseData(result: unknown, maxBytes: number): DataMap {
  if (result === undefined || result === null) return {};
  if (typeof result !== 'object' || Array.isArray(result)) {
    throw new TypeError(
      `Command returned ${Array.isArray(result) ? 'an array' : typeof result}; expected a map of response data`,
    );
  }
  // Must survive a JSON round trip to be stored (no cycles, no BigInt).
  const json = JSON.stringify(result);
  // A giant result would be stored, then block every read of the job: the attempt fails instead.
  if (Buffer.byteLength(json) > maxBytes) {
    throw new RangeError(
      `Command returned ${Buffer.byteLength(json)} bytes of response data, more than the limit of ${maxBytes} ` +
        'bytes (maxDataBytes, --max-data-size): store large results elsewhere and return a reference',
    );
  }
  return JSON.parse(json) as DataMap;
}
