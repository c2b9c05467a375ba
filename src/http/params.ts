/**
 * Path and query parameters of the jobs API, validated once here. KIE lets the JAX-RS runtime answer 404 for
 * non-numeric ids and 500 for unknown statuses or negative pages; kjobs answers 400 with the reason.
 */
import { parse as parseQuery } from 'node:querystring';
import { ValidationError } from '../core/index.js';

type QueryValue = string | string[] | undefined;

/** `status[0]`, `status[12]`, `status[]`: the array forms of `status` (Typhoeus, Rack, PHP, jQuery write them). */
const ARRAY_KEY = /^(.+)\[\d*\]$/;

/**
 * The query string of every request (Fastify's querystringParser). KIE reads array parameters from repeated keys
 * (`status=A&status=B`); generated clients write them as `status[0]=A&status[1]=B` (Typhoeus' default) or
 * `status[]=A&status[]=B` (Rack). All three forms, in any mix, become the one repeated parameter, in the order
 * written, so no client's filter is silently dropped. Brackets may come encoded (`%5B%5D`) or not.
 */
export function parseQueryString(text: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [rawKey, value] of Object.entries(parseQuery(text, '&', '=', { maxKeys: 0 }))) {
    const key = ARRAY_KEY.exec(rawKey)?.[1] ?? rawKey;
    const values = Array.isArray(value) ? value : [value ?? ''];
    const existing = query[key];
    const merged =
      existing === undefined ? values : [...(Array.isArray(existing) ? existing : [existing]), ...values];
    query[key] = merged.length === 1 ? (merged[0] as string) : merged;
  }
  return query;
}

function single(name: string, value: QueryValue): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw new ValidationError(`${name} was given ${value.length} times; give it once`);
    return value[0];
  }
  return value;
}

function wholeNumber(name: string, raw: string | undefined, { min }: { min?: number } = {}): number {
  const text = (raw ?? '').trim();
  const value = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || (min !== undefined && value < min)) {
    const range = min === undefined ? 'a whole number' : `a whole number >= ${min}`;
    throw new ValidationError(`${name} must be ${range}, got ${JSON.stringify(raw ?? '')}`);
  }
  return value;
}

/** A job id from the path: a whole number (negative ids are valid longs; they simply do not exist). */
export function parseJobId(raw: string): number {
  const list = LIST_PATHS.get(raw);
  if (list) throw new ValidationError(`${list[0]} is missing: use ${list[1]}`);
  return wholeNumber('Job id', raw);
}

/** `/jobs/keys/` and the like, without their value, arrive as a job id. */
const LIST_PATHS = new Map<string, [string, string]>([
  ['keys', ['The business key', '/jobs/keys/{key}']],
  ['commands', ['The command name', '/jobs/commands/{cmd}']],
  ['containers', ['The container id', '/jobs/containers/{containerId}']],
  ['processes', ['The process instance id', '/jobs/processes/instances/{processInstanceId}']],
]);

export function parseProcessInstanceId(raw: string): number {
  return wholeNumber('Process instance id', raw);
}

export interface ListParams {
  status?: string[];
  page?: number;
  pageSize?: number;
}

/**
 * `status` (repeated), `page` and `pageSize` as the query gives them; the list rules (known statuses, pages from
 * 0, KIE's defaults) are Kjobs' (kjobs.ts), for HTTP and library callers alike.
 */
export function parseListParams(query: Record<string, QueryValue>): ListParams {
  const status =
    query.status === undefined ? [] : Array.isArray(query.status) ? query.status : [query.status];
  const page = single('page', query.page);
  const pageSize = single('pageSize', query.pageSize);
  return {
    ...(status.length > 0 ? { status } : {}),
    ...(page === undefined ? {} : { page: wholeNumber('page', page, { min: 0 }) }),
    ...(pageSize === undefined ? {} : { pageSize: wholeNumber('pageSize', pageSize, { min: 0 }) }),
  };
}

/** KIE's `Boolean.valueOf`: "true" in any case is true, anything else (or nothing) is false. */
export function parseFlag(value: QueryValue): boolean {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.trim().toLowerCase() === 'true';
}

/** The optional `containerId` query parameter; empty means none. */
export function parseContainerId(value: QueryValue): string | undefined {
  const text = single('containerId', value);
  return text === undefined || text.trim() === '' ? undefined : text;
}
