import { CronExpressionParser } from 'cron-parser';
import { ValidationError } from './errors.js';
import type { DataMap } from './job.js';

/** A cron schedule from a job's data: `cron` (five fields, or six with seconds first) and optional `timezone`. */
export interface CronSchedule {
  expression: string;
  timezone: string | undefined;
}

/** The job's cron schedule, if its data has one; refuses a malformed expression or unknown time zone. */
export function cronOf(data: DataMap): CronSchedule | undefined {
  const expression = data.cron;
  if (expression === undefined || expression === null || expression === '') return undefined;
  if (typeof expression !== 'string') {
    throw new ValidationError(`cron must be a string like "*/5 * * * *", got ${JSON.stringify(expression)}`);
  }
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new ValidationError(
      `cron must have five fields (minute hour day month weekday) or six (seconds first), got "${expression}"`,
    );
  }
  const timezone = data.timezone;
  if (timezone !== undefined && timezone !== null && typeof timezone !== 'string') {
    throw new ValidationError(
      `timezone must be an IANA name like "Europe/Paris", got ${JSON.stringify(timezone)}`,
    );
  }
  if (typeof timezone === 'string') {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      throw new ValidationError(`Unknown timezone "${timezone}": use an IANA name like "Europe/Paris"`);
    }
  }
  const schedule = { expression: expression.trim(), timezone: timezone ?? undefined };
  nextCronTime(schedule, Date.now()); // validates the fields
  return schedule;
}

/** The first occurrence strictly after `after` (epoch ms). */
export function nextCronTime(schedule: CronSchedule, after: number): number {
  try {
    const options = { currentDate: new Date(after), ...(schedule.timezone ? { tz: schedule.timezone } : {}) };
    return CronExpressionParser.parse(schedule.expression, options).next().getTime();
  } catch (error) {
    throw new ValidationError(
      `Invalid cron expression "${schedule.expression}": ${(error as Error).message}`,
    );
  }
}
