import { setTimeout as sleep } from 'node:timers/promises';
import {
  isJobStatus,
  parseTimeExpression,
  ValidationError,
  FINAL_STATUSES,
  type DataMap,
  type JobStatus,
} from '../core/index.js';
import type { JobStore } from '../store/job-store.js';
import type { CommandDefinition } from './command.js';

const PACKAGE = 'org.jbpm.executor.commands';

/** The built-in commands, under their KIE names; available to every job, whatever its container. */
export function builtinCommands(store: JobStore): Record<string, CommandDefinition> {
  return {
    [`${PACKAGE}.PrintOutCommand`]: printOut,
    [`${PACKAGE}.DelayedPrintOutCommand`]: delayedPrintOut,
    [`${PACKAGE}.ReoccurringPrintOutCommand`]: reoccurringPrintOut,
    [`${PACKAGE}.JobExecutionErrorCommand`]: jobExecutionError,
    [`${PACKAGE}.LogCleanupCommand`]: logCleanup(store),
  };
}

/** Logs its data, returns nothing. */
const printOut: CommandDefinition = {
  run({ data, log }) {
    log.info({ data }, 'PrintOutCommand');
  },
};

/** Waits `delay` milliseconds (default 10 s), then logs its data. */
const delayedPrintOut: CommandDefinition = {
  async run({ data, log, signal }) {
    const delay = typeof data.delay === 'number' ? data.delay : 10_000;
    await sleep(delay, undefined, { signal });
    log.info({ data }, 'DelayedPrintOutCommand');
  },
};

/** Logs its data and runs again every `interval` (a time expression, default 1s, as KIE's every second). */
const reoccurringPrintOut: CommandDefinition = {
  run({ data, log }) {
    log.info({ data }, 'ReoccurringPrintOutCommand');
  },
  nextRunAt({ data, now }) {
    const interval = typeof data.interval === 'string' ? parseTimeExpression(data.interval) : 1_000;
    return now + interval;
  },
};

/** Always fails: for testing retries and error handling, as KIE's own. */
const jobExecutionError: CommandDefinition = {
  run() {
    throw new Error('Throwing error for testing purpose');
  },
};

/**
 * Deletes finished jobs (and their errors) that finished before `OlderThanPeriod` ago (a time expression) or
 * before `OlderThan` (a time expression, or a date such as 2026-01-31), of the statuses in `Status`
 * (comma-separated, default DONE, ERROR and CANCELLED), in container `ForDeployment` if given. Runs again after
 * `NextRun` (default 1d) unless `SingleRun` is "true".
 */
function logCleanup(store: JobStore): CommandDefinition {
  return {
    async run({ data }) {
      const olderThan = cutoff(data, Date.now());
      const statuses = statusesOf(data.Status);
      const containerId =
        typeof data.ForDeployment === 'string' && data.ForDeployment ? data.ForDeployment : null;
      const removed = await store.deleteFinished({ olderThan, statuses, containerId });
      return {
        RequestInfoLogsRemoved: removed.jobs,
        ErrorInfoLogsRemoved: removed.errors,
        // KIE also cleans process and task logs; kjobs has none, so these are always 0.
        ExecutionErrorInfoLogsRemoved: 0,
        TaskAuditLogRemoved: 0,
        TaskEventLogRemoved: 0,
        TaskVariableLogRemoved: 0,
        NodeInstanceLogRemoved: 0,
        VariableInstanceLogRemoved: 0,
        ProcessInstanceLogRemoved: 0,
        BAMLogRemoved: 0,
      };
    },
    nextRunAt({ data, now }) {
      if (String(data.SingleRun).toLowerCase() === 'true') return null;
      const next = typeof data.NextRun === 'string' && data.NextRun ? data.NextRun : '1d';
      const date = Date.parse(next);
      return /^\d{4}-\d{2}-\d{2}T/.test(next) && Number.isFinite(date)
        ? date
        : now + parseTimeExpression(next);
    },
  };
}

function cutoff(data: DataMap, now: number): number {
  const period = data.OlderThanPeriod ?? data.OlderThan;
  if (period === undefined || period === null || period === '') return now;
  if (typeof period !== 'string')
    throw new ValidationError(`OlderThan must be a string, got ${JSON.stringify(period)}`);
  if (/^\d{4}-\d{2}-\d{2}/.test(period)) {
    const date = Date.parse(period);
    if (!Number.isFinite(date)) throw new ValidationError(`OlderThan is not a valid date: ${period}`);
    return date;
  }
  return now - parseTimeExpression(period);
}

function statusesOf(value: unknown): JobStatus[] {
  if (value === undefined || value === null || value === '') return [...FINAL_STATUSES];
  const names = String(value)
    .split(',')
    .map((name) => name.trim().toUpperCase());
  for (const name of names) {
    if (!isJobStatus(name) || !FINAL_STATUSES.includes(name)) {
      throw new ValidationError(`Status must list finished statuses (DONE, ERROR, CANCELLED), got ${name}`);
    }
  }
  return names as JobStatus[];
}
