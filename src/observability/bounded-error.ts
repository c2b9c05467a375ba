/**
 * Errors as log entries, with every field bounded: a database error can carry a very long field (PostgreSQL's
 * `where`, the context of a deep trigger, ran to 170 KB a line), and an error logged in a loop must not flood the
 * logs. Used as the `err` serializer of the service's logger.
 */
import pino from 'pino';

/** Longest message and stack kept (a cause's: shorter); other text fields are cut shorter still. */
const MAX_MESSAGE = 2_000;
const MAX_STACK = 6_000;
const MAX_CAUSE_STACK = 2_000;
const MAX_FIELD = 500;
/** Causes followed at most this deep. */
const MAX_CAUSES = 3;

const cut = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more characters)`;

/** An error as pino's standard serializer writes it, each string field cut to a bounded length. */
export function boundedError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? cut(error, MAX_MESSAGE) : error;
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  const bounded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (key === 'cause' || key === 'aggregateErrors') continue;
    if (typeof value === 'string') {
      const max =
        key === 'stack'
          ? depth === 0
            ? MAX_STACK
            : MAX_CAUSE_STACK
          : key === 'message' && depth === 0
            ? MAX_MESSAGE
            : MAX_FIELD;
      bounded[key] = cut(value, max);
    } else if (value === null || typeof value === 'number' || typeof value === 'boolean') {
      bounded[key] = value;
    } else if (value !== undefined) {
      bounded[key] = cut(JSON.stringify(value) ?? String(value), MAX_FIELD);
    }
  }
  if (error.cause !== undefined && depth < MAX_CAUSES) bounded.cause = boundedError(error.cause, depth + 1);
  return bounded;
}
