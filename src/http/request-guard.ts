/**
 * What keeps a web page from using kjobs through a visitor's browser.
 *
 * - Cross-site writes (CSRF): a page on another origin can make the browser send a POST (a no-cors `fetch` with a
 *   Blob body, `navigator.sendBeacon`, a form) carrying the browser's cached basic credentials. Browsers mark such
 *   requests with `Sec-Fetch-Site` (and `Origin`); state-changing requests from anywhere but kjobs' own origin are
 *   refused. Clients that are not browsers (KIE's Java client, curl, the typed client on Node) send neither header.
 * - DNS rebinding: without users, a page on an attacker's domain that re-resolves to 127.0.0.1 reaches kjobs with
 *   its own domain in `Host`. Without users, only loopback names, IP addresses, this machine's name and
 *   `--allowed-hosts` are answered. (With users, such a page has no credentials for kjobs.)
 */
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import type { DoneFuncWithErrOrRes, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import { fastifyTrustProxy, forwardedHost, type TrustedProxies } from './proxies.js';

/** Options of the guard. */
export interface RequestGuardOptions {
  /** True when users are configured: `Host` is not restricted then. */
  authenticated: boolean;
  /**
   * Host names answered besides loopback names, IP addresses and this machine's name when no users are
   * configured; `*.example.com` matches subdomains; `*` alone turns the check off.
   */
  allowedHosts?: readonly string[];
  /** Trust `X-Forwarded-Host` as the public host (behind a reverse proxy): any setting but off. */
  trustProxy?: TrustedProxies | boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The host name of a `Host` header or URL authority: lower case, without port or IPv6 brackets. */
export function hostNameOf(authority: string): string {
  const text = authority.trim().toLowerCase();
  if (text.startsWith('[')) return text.slice(1, text.indexOf(']') < 0 ? undefined : text.indexOf(']'));
  const colon = text.lastIndexOf(':');
  return colon < 0 ? text : text.slice(0, colon);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export class RequestGuard {
  private readonly checkHost: boolean;
  private readonly exactHosts = new Set<string>();
  private readonly hostSuffixes: string[] = [];
  private readonly trustProxy: boolean;

  constructor(options: RequestGuardOptions) {
    const allowed = (options.allowedHosts ?? []).map((host) => host.trim().toLowerCase()).filter(Boolean);
    this.checkHost = !options.authenticated && !allowed.includes('*');
    this.trustProxy = fastifyTrustProxy(options.trustProxy) !== false;
    const machine = hostname().toLowerCase();
    this.exactHosts.add(machine);
    this.exactHosts.add(machine.split('.')[0] as string);
    for (const host of allowed) {
      if (host.startsWith('*.')) this.hostSuffixes.push(host.slice(1));
      else this.exactHosts.add(hostNameOf(host));
    }
  }

  /** The Fastify onRequest hook. */
  readonly hook = (request: FastifyRequest, _reply: FastifyReply, done: DoneFuncWithErrOrRes): void => {
    try {
      this.check(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  };

  private check(request: FastifyRequest): void {
    const host = header(request, 'host');
    if (this.checkHost && host !== undefined && !this.hostAllowed(hostNameOf(host))) {
      throw new HttpError(
        403,
        `Host ${host} is not allowed: without users, kjobs answers only loopback names, IP addresses and this ` +
          `machine's name (protection against DNS rebinding); allow the name with --allowed-hosts ` +
          `(KJOBS_ALLOWED_HOSTS) or configure users`,
      );
    }
    if (!SAFE_METHODS.has(request.method)) this.refuseCrossSite(request, host);
  }

  private hostAllowed(name: string): boolean {
    if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
    if (this.exactHosts.has(name)) return true;
    return this.hostSuffixes.some((suffix) => name.endsWith(suffix));
  }

  private refuseCrossSite(request: FastifyRequest, host: string | undefined): void {
    const site = header(request, 'sec-fetch-site');
    if (site !== undefined) {
      // `none`: the user's own action (address bar, bookmark); `same-origin`: kjobs' own pages.
      if (site === 'same-origin' || site === 'none') return;
      throw crossSite(`a page of another origin (Sec-Fetch-Site: ${site})`);
    }
    const origin = header(request, 'origin');
    if (origin === undefined) return;
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      throw crossSite(`a page of origin ${origin}`);
    }
    const publicHost = (this.trustProxy && forwardedHost(header(request, 'x-forwarded-host'))) || host;
    if (publicHost !== undefined && originHost === publicHost.toLowerCase()) return;
    throw crossSite(`a page of origin ${origin}`);
  }
}

function crossSite(what: string): HttpError {
  return new HttpError(
    403,
    `Refused: this request to change jobs was sent by ${what} through a browser; ` +
      'kjobs accepts changes from its own console and from clients that are not browsers',
  );
}
