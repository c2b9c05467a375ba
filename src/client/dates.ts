/**
 * Dates as KIE servers write them: in JSON `{"java.util.Date": <epoch ms>}` (KIE's default), a formatted string
 * (KIE with `org.kie.server.json.format.date=true`, or kjobs with `--json-dates iso`), or bare epoch milliseconds
 * (KIE 7.0); in XML `xs:dateTime`.
 */

import { DATE_WRAPPER_KEY, parseIsoMillis } from '../kie/dates.js';

export { DATE_WRAPPER_KEY };

/**
 * Parses an ISO-8601 date-time: `2018-10-20T10:16:51.326+02:00`, `...Z`, KIE's `...+0200`, without seconds or
 * fraction, or a bare date. Without an offset, local time applies (as in JAXB). Undefined when it is not a date.
 */
export function parseIsoDate(text: string): Date | undefined {
  const ms = parseIsoMillis(text);
  return ms === undefined ? undefined : new Date(ms);
}

/** True for KIE's one-key JSON date wrapper `{"java.util.Date": ...}`. */
export function isDateWrapper(value: unknown): value is Record<typeof DATE_WRAPPER_KEY, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === DATE_WRAPPER_KEY;
}

/**
 * Reads a date in any form a KIE server writes: `{"java.util.Date": ms}`, `{"java.util.Date": "ISO"}`, epoch
 * milliseconds (a number or a string of digits), an ISO-8601 string, or an existing `Date`. Null and undefined give
 * null; anything else throws a `TypeError` naming `field`.
 */
export function readDate(value: unknown, field = 'date'): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const inner = isDateWrapper(value) ? value[DATE_WRAPPER_KEY] : value;
  if (typeof inner === 'number' && Number.isFinite(inner)) return new Date(inner);
  if (typeof inner === 'string') {
    const text = inner.trim();
    if (/^-?\d+$/.test(text)) return new Date(Number(text));
    const date = parseIsoDate(text);
    if (date) return date;
  }
  throw new TypeError(`${field} is not a date: ${JSON.stringify(value)}`);
}

/** KIE's JSON form of a date: `{"java.util.Date": <epoch ms>}`, which every KIE server and kjobs read. */
export function writeJsonDate(date: Date): { [DATE_WRAPPER_KEY]: number } {
  return { [DATE_WRAPPER_KEY]: date.getTime() };
}

/** The `xs:dateTime` form of a date, in UTC: `2018-10-20T08:16:51.326Z`. */
export function writeXmlDate(date: Date): string {
  return date.toISOString();
}
