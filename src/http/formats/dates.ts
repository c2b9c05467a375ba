/**
 * Dates on the wire. KIE writes `java.util.Date` as `{"java.util.Date": <epoch ms>}` in JSON (or, when configured,
 * as a formatted string) and as `xs:dateTime` in XML; it reads the wrapper, bare epoch milliseconds and ISO-8601.
 */

import { DATE_WRAPPER_KEY } from '../../kie/dates.js';

/** The one-key wrapper Jackson writes for a `java.util.Date` in KIE's JSON (shared with the client). */
export { DATE_WRAPPER_KEY };

/** How dates are written in JSON: KIE's wrapper or ISO-8601 strings with an offset. */
export type JsonDates = 'kie' | 'iso';

/**
 * The server's date setting: one form for every client, or `auto` (the default): ISO-8601 for clients generated
 * from the swagger document, which type dates as `date-time` strings and cannot read KIE's wrapper, and KIE's
 * wrapper for everyone else (KIE's Java client, scripts written against KIE's default answers).
 */
export type JsonDatesSetting = JsonDates | 'auto';

/** The values of the setting, the default first. */
export const JSON_DATES_SETTINGS: readonly JsonDatesSetting[] = ['auto', 'kie', 'iso'];

// The product token Swagger Codegen and OpenAPI Generator clients put in their default User-Agent, in every
// language (`Swagger-Codegen/1.0.0/ruby`, `OpenAPI-Generator/1.0.0/python`); compiled once, tested per request.
const GENERATED_CLIENT_AGENT = /(?:^|\s)(?:swagger-codegen|openapi-generator)\//i;

/** The form of dates for one request: the setting, or with `auto` the form its User-Agent can read. */
export function jsonDatesFor(setting: JsonDatesSetting, userAgent: string | undefined): JsonDates {
  if (setting !== 'auto') return setting;
  return userAgent !== undefined && GENERATED_CLIENT_AGENT.test(userAgent) ? 'iso' : 'kie';
}

/** ISO-8601 to epoch milliseconds (undefined when not a date): one parser for the server and the client. */
export { parseIsoMillis } from '../../kie/dates.js';

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
