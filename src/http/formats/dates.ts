/**
 * Dates on the wire. KIE writes `java.util.Date` as `{"java.util.Date": <epoch ms>}` in JSON (or, when configured,
 * as a formatted string) and as `xs:dateTime` in XML; it reads the wrapper, bare epoch milliseconds and ISO-8601.
 */

/** The one-key wrapper Jackson writes for a `java.util.Date` in KIE's JSON. */
export const DATE_WRAPPER_KEY = 'java.util.Date';

/** How dates are written in JSON: KIE's wrapper (default) or ISO-8601 strings with an offset. */
export type JsonDates = 'kie' | 'iso';

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO-8601 date-time (`2018-10-20T10:16:51.326+02:00`, `...Z`, `...+0200`, without seconds or
 * fraction, or a bare date). Without an offset the server's local time zone applies, as JAXB does.
 * Answers epoch milliseconds, or undefined when the text is not such a date.
 */
export function parseIsoDate(text: string): number | undefined {
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
 * Formats epoch milliseconds as ISO-8601 in the server's time zone, with milliseconds and the offset:
 * `2018-10-20T10:16:51.326+02:00`. With `zulu`, a zero offset is written `Z` (as JAXB writes xs:dateTime).
 */
export function formatIsoDate(ms: number, { zulu = false } = {}): string {
  const date = new Date(ms);
  const offsetMinutes = -date.getTimezoneOffset();
  const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');
  const year = date.getFullYear();
  const yearText = year < 0 ? `-${pad(year, 4)}` : pad(year, 4);
  const base =
    `${yearText}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  if (offsetMinutes === 0 && zulu) return `${base}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  return `${base}${sign}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
}

/** True for `{"java.util.Date": <ms>}`, the form dates take in stored data. */
export function isDateWrapper(value: unknown): value is { [DATE_WRAPPER_KEY]: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 &&
    keys[0] === DATE_WRAPPER_KEY &&
    typeof (value as Record<string, unknown>)[DATE_WRAPPER_KEY] === 'number'
  );
}

/** The stored form of a date: `{"java.util.Date": ms}`. */
export function dateWrapper(ms: number): { [DATE_WRAPPER_KEY]: number } {
  return { [DATE_WRAPPER_KEY]: ms };
}
