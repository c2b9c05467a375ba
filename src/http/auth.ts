/**
 * HTTP basic authentication as KIE Server's web.xml sets it up: realm "KIE Server", and the REST API needs the
 * role `kie-server` (or `user`). Passwords are compared in constant time: both sides are hashed with SHA-256 and
 * the digests compared with timingSafeEqual, so neither the length nor the content of a password leaks.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import type { LoginLimiter } from './login-limiter.js';

/** A user of the REST API. */
export interface User {
  name: string;
  password: string;
  roles: string[];
}

/** Roles that may use the jobs API and `/server` (KIE's web.xml allows both). */
export const API_ROLES: readonly string[] = ['kie-server', 'user'];
/** A kjobs extension: a user with only this role may read (GET, HEAD) and change nothing. */
export const VIEWER_ROLE = 'viewer';
const READ_METHODS = new Set(['GET', 'HEAD']);
export const REALM = 'KIE Server';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

interface StoredUser {
  digest: Buffer;
  roles: ReadonlySet<string>;
}

/** Checks `Authorization: Basic` headers against the configured users. */
export class BasicAuthenticator {
  private readonly users = new Map<string, StoredUser>();
  /** Compared against when the user is unknown, so unknown and known users take the same time. */
  private readonly decoy = sha256('kjobs: no such user');

  constructor(
    users: readonly User[],
    private readonly requiredRoles: readonly string[] = API_ROLES,
    /** Limits failed logins per client address and user name (429 beyond); none: no limit. */
    private readonly limiter?: LoginLimiter,
  ) {
    for (const user of users)
      this.users.set(user.name, { digest: sha256(user.password), roles: new Set(user.roles) });
  }

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /**
   * The user's name when the header holds valid credentials with a required role (or the viewer role, for a read);
   * throws 401 or 403 otherwise.
   */
  authenticate(header: string | undefined, method = 'GET'): string {
    const credentials = parseBasic(header);
    if (!credentials) throw unauthorized('This API needs HTTP basic authentication');
    const stored = this.users.get(credentials.name);
    const given = sha256(credentials.password);
    const matches = timingSafeEqual(given, stored?.digest ?? this.decoy);
    if (!stored || !matches) throw unauthorized('Invalid user name or password');
    if (!this.requiredRoles.some((role) => stored.roles.has(role))) {
      if (stored.roles.has(VIEWER_ROLE)) {
        if (READ_METHODS.has(method)) return credentials.name;
        throw new HttpError(
          403,
          `User ${credentials.name} has the role ${VIEWER_ROLE}: it may read jobs but not change them`,
        );
      }
      throw new HttpError(
        403,
        `User ${credentials.name} does not have the role ${this.requiredRoles.join(' or ')}`,
      );
    }
    return credentials.name;
  }

  /**
   * A Fastify onRequest hook; a no-op when no users are configured. A user name with too many failed logins from
   * one client address gets 429 before its password is even looked at. The limiter counts wrong credentials per
   * address and user name, so one client guessing cannot lock out the other users of a shared address (a proxy).
   */
  hook() {
    return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
      if (!this.enabled) return;
      const given = parseBasic(request.headers.authorization);
      const limiterKey = given ? `${request.ip} ${given.name}` : undefined;
      const wait = limiterKey ? (this.limiter?.retryAfter(limiterKey) ?? 0) : 0;
      if (wait > 0) {
        request.log.debug({ ip: request.ip, retryAfter: wait }, 'login refused: too many failed logins');
        throw new HttpError(429, `Too many failed logins: try again in ${wait} s`, {
          'retry-after': String(wait),
        });
      }
      let user: string;
      try {
        user = this.authenticate(request.headers.authorization, request.method);
      } catch (error) {
        const wrongCredentials = error instanceof HttpError && error.statusCode === 401 && limiterKey;
        if (wrongCredentials) {
          const limited = this.limiter?.fail(limiterKey) ?? false;
          request.log.info({ ip: request.ip, user: given?.name }, 'failed login');
          // Once per address and window, not once per refused request: a flood must not flood the log.
          if (limited)
            request.log.warn({ ip: request.ip, user: given?.name }, 'too many failed logins: limited');
        }
        throw error;
      }
      request.log = request.log.child({ user });
    };
  }
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, message, { 'www-authenticate': `Basic realm="${REALM}"` });
}

function parseBasic(header: string | undefined): { name: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(bare);
  return false;
}

/**
 * Refuses to serve an unauthenticated API beyond this machine: without users, only a loopback host is allowed,
 * unless the operator says `--insecure`.
 */
export function assertSafeBinding({
  host,
  users,
  insecure,
}: {
  host: string;
  users: readonly User[];
  insecure: boolean;
}) {
  if (users.length > 0 || insecure || isLoopbackHost(host)) return;
  throw new Error(
    `Refusing to listen on ${host} without authentication: configure users (--user NAME:PASSWORD, KJOBS_USERS) ` +
      'or pass --insecure to allow anyone who can reach this address to use the API',
  );
}
