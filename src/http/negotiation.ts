/**
 * Content negotiation as KIE Server does it (RestUtils.getContentType): the body format, for reading the request
 * and writing the answer, is XML by default, else taken from the Accept header, overridden by Content-Type,
 * overridden by `X-KIE-ContentType` (JSON, JAXB or XSTREAM). Media-type parameters `strict=true` (schedule answers
 * `{"value": id}`) and `fields=not_null` (null fields left out) apply to JSON.
 */
import { HttpError } from './errors.js';

export type WireFormat = 'json' | 'xml';

export interface Negotiation {
  format: WireFormat;
  /** JSON `strict=true`: the scheduled id is written `{"value": id}`. */
  strict: boolean;
  /** JSON `fields=not_null`: null fields are left out. */
  omitNulls: boolean;
}

export interface NegotiationHeaders {
  accept?: string | undefined;
  contentType?: string | undefined;
  kieContentType?: string | undefined;
}

interface MediaRange {
  type: string;
  subtype: string;
  params: Record<string, string>;
  q: number;
}

const XSTREAM_REFUSED =
  'XSTREAM marshalling is not supported by kjobs: use X-KIE-ContentType JSON or JAXB (application/json or application/xml)';

function parseMediaType(text: string): MediaRange | undefined {
  const [essence = '', ...rawParams] = text.split(';');
  const [type, subtype] = essence.trim().toLowerCase().split('/');
  if (!type || !subtype) return undefined;
  const params: Record<string, string> = {};
  let q = 1;
  for (const raw of rawParams) {
    const eq = raw.indexOf('=');
    if (eq < 0) continue;
    const name = raw.slice(0, eq).trim().toLowerCase();
    const value = raw
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (name === 'q') {
      const quality = Number(value);
      q = Number.isFinite(quality) ? Math.min(Math.max(quality, 0), 1) : 1;
    } else params[name] = value;
  }
  return { type, subtype, params, q };
}

function fromParams(format: WireFormat, params: Record<string, string>): Negotiation {
  return {
    format,
    strict: format === 'json' && params.strict?.toLowerCase() === 'true',
    omitNulls: format === 'json' && params.fields?.toLowerCase() === 'not_null',
  };
}

/** Best quality a range list gives `type/subtype`, from its most specific matching range. */
function match(ranges: readonly MediaRange[], type: string, subtype: string) {
  let best: { q: number; specificity: number; range: MediaRange } | undefined;
  for (const range of ranges) {
    const specificity =
      range.type === type && range.subtype === subtype
        ? 3
        : range.type === type && range.subtype === '*'
          ? 2
          : range.type === '*' && range.subtype === '*'
            ? 1
            : 0;
    if (specificity === 0) continue;
    if (!best || specificity > best.specificity) best = { q: range.q, specificity, range };
  }
  return best;
}

/**
 * The format the Accept header prefers. Equal quality goes to the more specific range, then to XML (KIE answers
 * XML for `*∕*` and for `application/json, application/xml`). Nothing acceptable: 406.
 */
function formatFromAccept(accept: string): Negotiation {
  const ranges = accept
    .split(',')
    .map(parseMediaType)
    .filter((range): range is MediaRange => !!range);
  const xml = match(ranges, 'application', 'xml');
  const json = match(ranges, 'application', 'json');
  const xmlScore = xml && xml.q > 0 ? xml : undefined;
  const jsonScore = json && json.q > 0 ? json : undefined;
  if (!xmlScore && !jsonScore) {
    throw new HttpError(406, `Not acceptable: ${accept}; kjobs answers application/json or application/xml`);
  }
  const preferJson =
    jsonScore &&
    (!xmlScore ||
      jsonScore.q > xmlScore.q ||
      (jsonScore.q === xmlScore.q && jsonScore.specificity > xmlScore.specificity));
  return preferJson ? fromParams('json', jsonScore.range.params) : fromParams('xml', {});
}

/** The format a Content-Type names; other media types are refused with 415. */
function formatFromContentType(contentType: string): Negotiation {
  const media = parseMediaType(contentType);
  const essence = media ? `${media.type}/${media.subtype}` : contentType.trim();
  if (media && essence === 'application/json') return fromParams('json', media.params);
  if (media && (essence === 'application/xml' || essence === 'text/xml')) return fromParams('xml', {});
  if (essence.includes('xstream')) throw new HttpError(415, XSTREAM_REFUSED);
  throw new HttpError(
    415,
    `Unsupported Content-Type ${contentType}: send application/json or application/xml`,
  );
}

/** `X-KIE-ContentType`: JSON, JAXB or XSTREAM (any case), or a media type, with optional parameters. */
function formatFromKieContentType(value: string): Negotiation {
  const [name = '', ...rest] = value.split(';');
  const params = parseMediaType(`x/x;${rest.join(';')}`)?.params ?? {};
  const normalized = name.trim().toLowerCase();
  if (normalized === 'json' || normalized.startsWith('application/json')) return fromParams('json', params);
  if (normalized === 'jaxb' || normalized === 'xml' || normalized.startsWith('application/xml')) {
    return fromParams('xml', {});
  }
  if (normalized === 'xstream' || normalized.startsWith('application/xstream'))
    throw new HttpError(415, XSTREAM_REFUSED);
  throw new HttpError(415, `Invalid marshalling format [${value}]: X-KIE-ContentType must be JSON or JAXB`);
}

/** Decides the format of a request, in KIE's order of priority. */
export function negotiate({ accept, contentType, kieContentType }: NegotiationHeaders): Negotiation {
  let result: Negotiation = fromParams('xml', {});
  if (accept && accept.trim() !== '') result = formatFromAccept(accept);
  if (contentType && contentType.trim() !== '') result = formatFromContentType(contentType);
  if (kieContentType && kieContentType.trim() !== '') result = formatFromKieContentType(kieContentType);
  return result;
}
