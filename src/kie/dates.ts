/**
 * Dates as KIE writes them: in JSON `{"java.util.Date": <epoch ms>}` (KIE's default) or ISO-8601 text, in XML
 * `xs:dateTime`. The client turns them into `Date`s (client/dates.ts), the server into epoch milliseconds.
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
