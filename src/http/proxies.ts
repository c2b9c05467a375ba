/**
 * Which reverse proxies kjobs trusts for the client's address (`X-Forwarded-For`: the failed-login limiter, the
 * logs) and the public host (`X-Forwarded-Host`: the cross-site checks). The client writes the left of
 * `X-Forwarded-For` as it likes; each proxy appends the address it saw. So the client's address is the right-most
 * entry not written by a trusted proxy: with N trusted hops, the N-th from the right (one hop: what the proxy in
 * front appended); with trusted addresses, the right-most that is not one of them.
 */
import { isIP } from 'node:net';

/** Off, a number of hops (1: one proxy in front), or the proxies' addresses and networks (`10.0.0.0/8`). */
export type TrustedProxies = false | number | readonly string[];

/** proxy-addr's names for address ranges, which Fastify accepts in a list. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Checks a list of trusted proxy addresses: IP addresses, CIDR networks, or `loopback`, `linklocal`,
 * `uniquelocal`. Answers a message for the first bad one, or undefined.
 */
export function badProxyAddress(addresses: readonly string[]): string | undefined {
  for (const address of addresses) {
    if (RANGE_NAMES.has(address)) continue;
    const [ip, prefix, extra] = address.split('/');
    const version = isIP(ip ?? '');
    const bits = version === 4 ? 32 : 128;
    if (version === 0 || extra !== undefined) return `"${address}" is not an IP address or network`;
    if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits)) {
      return `"${address}" has a bad prefix length (0 to ${bits})`;
    }
  }
  return undefined;
}

/**
 * Fastify's `trustProxy` for a setting; `true` (the setting's older form) is one hop, never "trust everything".
 * Fastify refuses a bare hop count (it trusts whatever connects, so the port must be reachable by the proxies
 * alone, as the docs say): a count is a function trusting the socket's peer and the hops after it.
 */
export function fastifyTrustProxy(
  trusted: TrustedProxies | boolean | undefined,
): false | string[] | ((address: string, hop: number) => boolean) {
  if (trusted === undefined || trusted === false || trusted === 0) return false;
  const hops = trusted === true ? 1 : trusted;
  if (typeof hops === 'number') return (_address, hop) => hop < hops;
  return [...hops];
}

/**
 * The public host a proxy passed in `X-Forwarded-Host`, when proxies are trusted: the right-most entry, which the
 * proxy in front wrote (a client's own entry is to its left).
 */
export function forwardedHost(header: string | undefined): string | undefined {
  const entries =
    header
      ?.split(',')
      .map((entry) => entry.trim())
      .filter(Boolean) ?? [];
  return entries.at(-1);
}
