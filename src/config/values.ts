/**
 * Readers of setting values: each turns the text of a flag, variable or config-file key into a value, or throws a
 * ConfigError whose message starts with the name it was given (the flag, the variable, or the file and key).
 */
import { badProxyAddress, type TrustedProxies } from '../http/proxies.js';
import { parseTimeExpression } from '../core/time-expression.js';
import type { User } from '../http/auth.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A configuration value that cannot be used; the message names where it came from (flag, variable, file and key). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseInteger(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

export function parseBoolean(name: string, text: string): boolean {
  const normalized = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(normalized)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(text)}`);
}

/** Milliseconds as a time expression (`30s`, `1m`, `500ms`) or a bare number; 0 allowed. */
export function parseDuration(name: string, text: string): number {
  let value: number;
  try {
    value = parseTimeExpression(text);
  } catch {
    value = NaN;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a duration like 30s, 1m or 500 (ms), got ${JSON.stringify(text)}`);
  }
  return value;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
};

/** Bytes: `1048576`, `512kb`, `1mb` (units of 1024). */
export function parseSize(name: string, text: string): number {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = SIZE_UNITS[(match?.[2] ?? 'x').toLowerCase()];
  const value = match && unit ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(
      `${name} must be a size in bytes like 1048576, 512kb or 1mb, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/** `ID=MODULE`: a container id and the path (or URL) of its ES module. */
export function parseContainer(text: string, name = '--container'): [string, string] {
  const eq = text.indexOf('=');
  const id = text.slice(0, eq).trim();
  const module = text.slice(eq + 1).trim();
  if (eq < 1 || !id || !module || /\s/.test(id)) {
    throw new ConfigError(
      `${name} must be ID=MODULE (e.g. acme=./containers/acme.js), got ${JSON.stringify(text)}`,
    );
  }
  return [id, module];
}

/** `ID=ITEM[,ITEM...]` (a remote container and its command patterns, a worker user and its containers). */
export function parseRemoteContainer(
  text: string,
  name = '--remote-container',
  shape = 'ID=PATTERN[,PATTERN] (e.g. billing=com.acme.billing.*)',
): [string, string[]] {
  const eq = text.indexOf('=');
  const id = text.slice(0, eq).trim();
  const items = splitList(text.slice(eq + 1), /,/);
  if (eq < 1 || !id || items.length === 0 || /\s/.test(id)) {
    throw new ConfigError(`${name} must be ${shape}, got ${JSON.stringify(text)}`);
  }
  return [id, items];
}

/**
 * `NAME:PASSWORD[:ROLE,ROLE...]`; without roles the user gets `kie-server`. The name cannot hold a colon; a
 * password can only when roles follow (the text after the last colon is read as the roles).
 */
export function parseUser(text: string, name = '--user'): User {
  const first = text.indexOf(':');
  if (first < 1)
    throw new ConfigError(`${name} must be NAME:PASSWORD[:ROLE,ROLE], got a value without a password`);
  const user = text.slice(0, first);
  const rest = text.slice(first + 1);
  const last = rest.lastIndexOf(':');
  const password = last < 0 ? rest : rest.slice(0, last);
  const roles =
    last < 0
      ? ['kie-server']
      : rest
          .slice(last + 1)
          .split(',')
          .map((role) => role.trim())
          .filter(Boolean);
  if (!password) throw new ConfigError(`User ${user} has an empty password`);
  if (roles.length === 0) throw new ConfigError(`User ${user}: give at least one role after the last colon`);
  return { name: user, password, roles };
}

/** `NAME=N`: a command name (or container id) and its concurrency limit, a whole number >= 1. */
export function parseLimit(name: string, text: string): [string, number] {
  const eq = text.lastIndexOf('=');
  const key = text.slice(0, eq).trim();
  const limit = text.slice(eq + 1).trim();
  const value = /^\d+$/.test(limit) ? Number(limit) : NaN;
  if (eq < 1 || !key || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(
      `${name} must be NAME=N with N a whole number >= 1 (e.g. com.acme.SendMail=2), got ${JSON.stringify(text)}`,
    );
  }
  return [key, value];
}

/** `NAME=N/PERIOD` (a rate limit): N a whole number >= 1, PERIOD a time expression of at least 1 ms. */
export function parseRateLimit(name: string, text: string): [string, { starts: number; periodMs: number }] {
  const eq = text.lastIndexOf('=');
  const key = text.slice(0, eq).trim();
  const [count = '', period = ''] = text.slice(eq + 1).split('/');
  const starts = /^\s*\d+\s*$/.test(count) ? Number(count) : NaN;
  let periodMs = NaN;
  try {
    periodMs = parseTimeExpression(period);
  } catch {
    // refused below
  }
  if (eq < 1 || !key || !Number.isSafeInteger(starts) || starts < 1 || !(periodMs >= 1)) {
    throw new ConfigError(
      `${name} must be NAME=N/PERIOD with N a whole number >= 1 and PERIOD a duration (e.g. com.acme.SendMail=20/1s), got ${JSON.stringify(text)}`,
    );
  }
  return [key, { starts, periodMs }];
}

/** `N` (every key) or `COMMAND=N` (a command's keys): a key limit. */
export function parseKeyLimit(name: string, text: string): [string | null, number] {
  if (/^\s*\d+\s*$/.test(text)) {
    const value = Number(text);
    if (value >= 1 && Number.isSafeInteger(value)) return [null, value];
  } else if (text.includes('=')) {
    return parseLimit(name, text);
  }
  throw new ConfigError(
    `${name} must be N or COMMAND=N with N a whole number >= 1 (e.g. 2 or com.acme.Sync=2), got ${JSON.stringify(text)}`,
  );
}

/** Splits a list from the environment: commas for containers, semicolons or new lines for users. */
export function splitList(text: string | undefined, separator: RegExp): string[] {
  return (text ?? '')
    .split(separator)
    .map((item) => item.trim())
    .filter(Boolean);
}

export function parseOneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  const value = text.trim().toLowerCase() as T;
  if (!allowed.includes(value))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
  return value;
}

/**
 * `--trust-proxy`: on (`true`, `yes`, or the flag alone) is one hop; a number of hops; off (`false`, `0`); or the
 * proxies' addresses and networks, comma-separated.
 */
export function parseTrustProxy(name: string, text: string): TrustedProxies {
  const normalized = text.trim().toLowerCase();
  if (['true', 'yes', 'on'].includes(normalized)) return 1;
  if (['false', 'no', 'off', '', '0'].includes(normalized)) return false;
  if (/^\d+$/.test(normalized)) return parseInteger(name, normalized, 1);
  const addresses = splitList(text, /,/);
  const bad = badProxyAddress(addresses);
  if (bad) {
    throw new ConfigError(
      `${name} takes a number of proxy hops to trust (1: one proxy in front), or the proxies' addresses or ` +
        `networks (10.0.0.0/8,127.0.0.1): ${bad}`,
    );
  }
  return addresses;
}

/** Where the REST API is below a bare origin (KIE Server's path). */
const REST_ROOT = '/kie-server/services/rest';

/** A server's REST root: an http(s) URL; a bare origin gets KIE's `/kie-server/services/rest`. */
export function parseRestRoot(text: string, name: string): string {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ConfigError(`${name} is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be http:// or https://, got ${JSON.stringify(text)}`);
  }
  if (url.username || url.password) {
    throw new ConfigError(
      `${name}: give the user with --user and the password with KJOBS_PASSWORD, not in the URL`,
    );
  }
  return url.pathname === '/' ? `${url.origin}${REST_ROOT}` : trimmed.replace(/\/+$/, '');
}
