/**
 * HTTP basic authentication as KIE Server's web.xml sets it up: realm "KIE Server", and the REST API needs the
 * role `kie-server` (or `user`). A user's password is checked against one of three things:
 * - a plain password (`--user`, for development): both sides hashed with SHA-256, the digests compared with
 *   timingSafeEqual, so neither the length nor the content of a password leaks;
 * - KIE's digest (`--kie-users`): MD5 of `user:realm:password`, compared the same way;
 * - a salted scrypt hash (`--users-file`): checked in the thread pool (a few at once, see SlowCheckQueue). A
 *   successful check is remembered as an HMAC of the password under a key made for this process, so the next
 *   request of that user costs one HMAC, not a slow hash; a wrong password always pays the slow hash.
 * Every refused login costs the same: an unknown user is checked against a decoy, and when slow hashes are
 * configured, every refusal waits for a slow check at the highest cost of the configured hashes (a user whose hash
 * is cheaper is checked beside such a decoy), so timing tells neither which users exist, nor their kind, nor their
 * cost. Slow checks are bounded per client address and in all (SlowCheckQueue): past that, 429 or 503 at once.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import type { LoginLimiter } from './login-limiter.js';
import {
  decoyScryptHash,
  kieDigest,
  parseScryptHash,
  scryptCost,
  SlowCheckBusyError,
  SlowCheckQueue,
  verifyScrypt,
  type ScryptHash,
} from './passwords.js';

/** A user of the REST API: a name, roles, and exactly one of `password`, `passwordHash`, `kieDigest`. */
export interface User {
  name: string;
  /** The password in clear (`--user`, for development). */
  password?: string;
  /** A salted scrypt hash, `$scrypt$ln=15,r=8,p=1$SALT$HASH` (`--users-file`, `kjobs hash-password`). */
  passwordHash?: string;
  /** KIE's `application-users.properties` digest: hex MD5 of `name:realm:password` (`--kie-users`). */
  kieDigest?: { hex: string; realm: string };
  roles: string[];
}

/** Roles that may use the jobs API and `/server` (KIE's web.xml allows both). */
export const API_ROLES: readonly string[] = ['kie-server', 'user'];
/** A kjobs extension: a user with only this role may read (GET, HEAD) and change nothing. */
export const VIEWER_ROLE = 'viewer';
/**
 * A kjobs extension: a user with this role may use the worker protocol alone (`.../server/kjobs/workers/...`), for
 * the remote containers it is granted (--worker-grant); users with an API role may use it for every container.
 */
export const WORKER_ROLE = 'worker';
/** The worker protocol's paths, which the worker role may use. */
export const WORKER_PATH = /^\/kie-server\/services\/rest\/server\/kjobs\/workers(\/|$|\?)/;

/** Who made a request, once authenticated: what the routes check grants against. */
export interface RequestUser {
  name: string;
  roles: ReadonlySet<string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user; undefined when authentication is off. */
    kjobsUser?: RequestUser;
  }
}
const READ_METHODS = new Set(['GET', 'HEAD']);
export const REALM = 'KIE Server';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

type Verifier =
  | { kind: 'plain'; digest: Buffer }
  | { kind: 'kie'; digest: Buffer; realm: string }
  | { kind: 'scrypt'; hash: ScryptHash };

interface StoredUser {
  name: string;
  verifier: Verifier;
  roles: ReadonlySet<string>;
  /** For a scrypt user: HMAC of the password that last passed the slow check. */
  verified?: Buffer;
}

function verifierOf(user: User): Verifier {
  const given = [user.password, user.passwordHash, user.kieDigest].filter((value) => value !== undefined);
  if (given.length !== 1)
    throw new Error(`User ${user.name} needs exactly one of a password, a password hash or a KIE digest`);
  if (user.passwordHash !== undefined) return { kind: 'scrypt', hash: parseScryptHash(user.passwordHash) };
  if (user.kieDigest !== undefined) {
    if (!/^[0-9a-f]{32}$/i.test(user.kieDigest.hex))
      throw new Error(`User ${user.name}: a KIE digest is 32 hexadecimal digits`);
    return { kind: 'kie', digest: Buffer.from(user.kieDigest.hex, 'hex'), realm: user.kieDigest.realm };
  }
  return { kind: 'plain', digest: sha256(user.password as string) };
}

/** Checks `Authorization: Basic` headers against the configured users. */
export class BasicAuthenticator {
  private users = new Map<string, StoredUser>();
  /** Compared against when the user is unknown, so unknown and known users take the same time. */
  private readonly decoy = sha256('kjobs: no such user');
  /**
   * Checked on every refusal while slow hashes are configured, at the highest of their costs (and beside the
   * check of a user whose hash is cheaper); undefined otherwise.
   */
  private slowDecoy: ScryptHash | undefined;
  /** Key of the HMACs that remember verified passwords; made for this process, never stored. */
  private readonly cacheKey = randomBytes(32);
  private readonly slowChecks = new SlowCheckQueue();
  /** Slow checks under way by user and password HMAC: concurrent first requests share one. */
  private readonly pending = new Map<string, Promise<boolean>>();

  constructor(
    users: readonly User[],
    private readonly requiredRoles: readonly string[] = API_ROLES,
    /** Limits failed logins per client address and user name (429 beyond); none: no limit. */
    private readonly limiter?: LoginLimiter,
  ) {
    this.setUsers(users);
  }

  /**
   * Replaces the users (a reload): remembered verifications are dropped with the old users. Throws, keeping the
   * old users, when one of the new ones is unusable.
   */
  setUsers(users: readonly User[]): void {
    const next = new Map<string, StoredUser>();
    for (const user of users)
      next.set(user.name, { name: user.name, verifier: verifierOf(user), roles: new Set(user.roles) });
    const hashes = [...next.values()].flatMap((user) =>
      user.verifier.kind === 'scrypt' ? [user.verifier.hash] : [],
    );
    const costliest = hashes.sort((a, b) => scryptCost(b) - scryptCost(a))[0];
    this.slowDecoy = costliest ? decoyScryptHash(costliest) : undefined;
    this.users = next;
    this.pending.clear();
  }

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** Slow (scrypt) checks run so far, decoys included: a remembered verification runs none. */
  get slowCheckCount(): number {
    return this.slowChecks.count;
  }

  /** Hashes checked so far by scrypt cost (log2 N): decoys and users' own. */
  get slowChecksByCost(): ReadonlyMap<number, number> {
    return this.slowChecks.byCost;
  }

  /**
   * The user's name when the header holds valid credentials with a required role (or the viewer role, for a read);
   * rejects with 401 or 403 otherwise, and with 429 (or 503) when `client` (or everyone) has too many slow checks
   * under way.
   */
  async authenticate(
    header: string | undefined,
    method = 'GET',
    client = '',
    path = '',
  ): Promise<RequestUser> {
    const credentials = parseBasic(header);
    if (!credentials) throw unauthorized('This API needs HTTP basic authentication');
    const stored = this.users.get(credentials.name);
    let matches: boolean;
    try {
      matches = await this.passwordMatches(stored, credentials.password, client);
    } catch (error) {
      if (!(error instanceof SlowCheckBusyError)) throw error;
      throw new HttpError(error.scope === 'client' ? 429 : 503, error.message, { 'retry-after': '1' });
    }
    if (!matches || !stored) throw unauthorized('Invalid user name or password');
    const user = { name: credentials.name, roles: stored.roles };
    if (!this.requiredRoles.some((role) => stored.roles.has(role))) {
      if (stored.roles.has(WORKER_ROLE) && WORKER_PATH.test(path)) return user;
      if (stored.roles.has(VIEWER_ROLE)) {
        if (READ_METHODS.has(method)) return user;
        throw new HttpError(
          403,
          `User ${credentials.name} has the role ${VIEWER_ROLE}: it may read jobs but not change them`,
        );
      }
      throw new HttpError(
        403,
        stored.roles.has(WORKER_ROLE)
          ? `User ${credentials.name} has the role ${WORKER_ROLE}: it may use the worker protocol only`
          : `User ${credentials.name} does not have the role ${this.requiredRoles.join(' or ')}`,
      );
    }
    return user;
  }

  private async passwordMatches(
    stored: StoredUser | undefined,
    password: string,
    client: string,
  ): Promise<boolean> {
    let matches: boolean;
    const verifier = stored?.verifier;
    if (!stored || !verifier) {
      timingSafeEqual(sha256(password), this.decoy);
      matches = false;
    } else if (verifier.kind === 'plain') {
      matches = timingSafeEqual(sha256(password), verifier.digest);
    } else if (verifier.kind === 'kie') {
      matches = timingSafeEqual(kieDigest(stored.name, verifier.realm, password), verifier.digest);
    } else {
      // A slow check ran (or was remembered): no decoy needed.
      return this.scryptMatches(stored, verifier.hash, password, client);
    }
    if (!matches && this.slowDecoy) {
      const decoy = this.slowDecoy;
      await this.slowChecks.run(() => verifyScrypt(password, decoy), client, [decoy.ln]);
    }
    return matches;
  }

  private async scryptMatches(
    stored: StoredUser,
    hash: ScryptHash,
    password: string,
    client: string,
  ): Promise<boolean> {
    const mac = createHmac('sha256', this.cacheKey).update(password, 'utf8').digest();
    if (stored.verified && timingSafeEqual(mac, stored.verified)) return true;
    const key = `${stored.name}\0${mac.toString('base64')}`;
    let check = this.pending.get(key);
    if (!check) {
      const decoy = this.slowDecoy;
      // A hash cheaper than the costliest is checked beside a decoy of that cost (both in the thread pool at
      // once): a refusal takes as long as any other.
      check =
        decoy && scryptCost(hash) < scryptCost(decoy)
          ? this.slowChecks.run(
              async () =>
                (await Promise.all([verifyScrypt(password, hash), verifyScrypt(password, decoy)]))[0],
              client,
              [hash.ln, decoy.ln],
            )
          : this.slowChecks.run(() => verifyScrypt(password, hash), client, [hash.ln]);
      this.pending.set(key, check);
      void check.finally(() => this.pending.delete(key)).catch(() => undefined);
    }
    const matches = await check;
    // Only if the user was not replaced meanwhile (a reload).
    if (matches && this.users.get(stored.name) === stored) stored.verified = mac;
    return matches;
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
      let user: RequestUser;
      try {
        user = await this.authenticate(
          request.headers.authorization,
          request.method,
          request.ip,
          request.url,
        );
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
      request.kjobsUser = user;
      request.log = request.log.child({ user: user.name });
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
