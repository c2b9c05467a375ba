/**
 * Dates as KIE servers write them: in JSON `{"java.util.Date": <epoch ms>}` (KIE's default), a formatted string
 * (KIE with `org.kie.server.json.format.date=true`, or kjobs with `--json-dates iso`), or bare epoch milliseconds
 * (KIE 7.0); in XML `xs:dateTime`.
 */

/** The key of KIE's JSON date wrapper. */
export const DATE_WRAPPER_KEY = 'java.util.Date';

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO-8601 date-time (`2018-10-20T10:16:51.326+02:00`, `...Z`, `...+0200`, without seconds or
 * fraction, or a bare date). Without an offset the server's local time zone applies, as JAXB does.
 * Answers epoch milliseconds, or undefined when the text is not such a date.
 */
export function parseIsoMillis(text: string): number | undefined {
  const match = ISO_DATE_TIME.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset] = match;
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = parts;
  const ms = Number((fraction + '000').slice(0, 3));
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Refuse days a month does not have (2021-02-30) instead of rolling them over.
  if (day < 1 || new Date(Date.UTC(2000 + (year % 400), month - 1, day)).getUTCDate() !== day)
    return undefined;
  let time: number;
  if (offset === undefined) {
    const local = new Date(year, month - 1, day, hour, minute, second, ms);
    if (year < 100) local.setFullYear(year); // years 0..99 are not shifted to 19xx
    time = local.getTime();
  } else {
    const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
    if (year < 100) utc.setUTCFullYear(year);
    time = utc.getTime();
    if (offset !== 'Z' && offset !== 'z') {
      const sign = offset.startsWith('-') ? -1 : 1;
      const digits = offset.slice(1).replace(':', '');
      const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
      time -= sign * minutes * 60_000;
    }
  }
  return Number.isFinite(time) ? time : undefined;
}

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
