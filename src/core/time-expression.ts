import { ValidationError } from './errors.js';

/*
 * Time expressions as KIE (drools TimeUtils) writes them: `500ms`, `10s`, `1m`, `2h`, `1d`, and combinations in
 * that order such as `1h30m` or `1m 80s`; a bare number is milliseconds; case-insensitive; an optional sign.
 */
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
const EXPRESSION =
  /^([+-])?\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?!s))?\s*(?:(\d+)\s*s)?\s*(?:(\d+)\s*ms)?$/i;
const BARE_NUMBER = /^([+-])?\s*(\d+)$/;

/** Parses a time expression into milliseconds; throws ValidationError on anything else. */
export function parseTimeExpression(text: string): number {
  const trimmed = text.trim();
  const bare = BARE_NUMBER.exec(trimmed);
  if (bare) return signed(bare[1], Number(bare[2]));
  const match = trimmed === '' ? null : EXPRESSION.exec(trimmed);
  if (!match || match.slice(2).every((part) => part === undefined)) {
    throw new ValidationError(
      `Error parsing time string: [ ${text} ] (expected e.g. 500ms, 10s, 1m, 2h, 1d or 1h30m)`,
    );
  }
  const [, sign, d, h, m, s, ms] = match;
  const total =
    Number(d ?? 0) * UNIT_MS.d +
    Number(h ?? 0) * UNIT_MS.h +
    Number(m ?? 0) * UNIT_MS.m +
    Number(s ?? 0) * UNIT_MS.s +
    Number(ms ?? 0) * UNIT_MS.ms;
  return signed(sign, total);
}

function signed(sign: string | undefined, value: number): number {
  return sign === '-' ? -value : value;
}

/**
 * Parses KIE's `retryDelay`: comma-separated time expressions (`"10s, 1m, 1h"`) into milliseconds.
 * A list of numbers (how KIE stores it back) is accepted as is.
 */
export function parseRetryDelays(value: unknown): number[] {
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item === 'number' && Number.isFinite(item)) return Math.trunc(item);
      if (typeof item === 'string') return parseTimeExpression(item);
      throw new ValidationError(
        `retryDelay must be time expressions or milliseconds, got ${JSON.stringify(item)}`,
      );
    });
  }
  if (typeof value === 'number' && Number.isFinite(value)) return [Math.trunc(value)];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(`retryDelay must be a string like "10s, 1m, 1h", got ${JSON.stringify(value)}`);
  }
  return value.split(',').map((part) => parseTimeExpression(part));
}
