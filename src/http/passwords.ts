/**
 * Password hashes kjobs reads: its own salted slow hash (scrypt from node:crypto, in the PHC string form
 * `$scrypt$ln=15,r=8,p=1$SALT$HASH`, salt and hash in base64 without padding, as passlib writes it), and KIE's
 * (WildFly's) `application-users.properties` digest, hex MD5 of `user:realm:password`. scrypt runs in libuv's
 * thread pool (crypto.scrypt), never on the event loop.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Cost of new hashes: N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds a check). */
export const SCRYPT_DEFAULTS = { ln: 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on what a users file may ask for, so that one line cannot make every login take gigabytes. */
const MAX_LN = 20;
const MAX_R = 32;
const MAX_P = 16;

/** A parsed scrypt hash. */
export interface ScryptHash {
  /** log2 of N, the cost. */
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const base64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

function scryptAsync(
  password: string,
  salt: Buffer,
  length: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

const optionsOf = ({ ln, r, p }: Pick<ScryptHash, 'ln' | 'r' | 'p'>): ScryptOptions => ({
  N: 2 ** ln,
  r,
  p,
  // scrypt needs 128 * N * r bytes; Node refuses more than maxmem (default 32 MiB).
  maxmem: 256 * 2 ** ln * r,
});

/** A new salted scrypt hash of the password, in the PHC form `$scrypt$ln=15,r=8,p=1$SALT$HASH`. */
export async function hashPassword(
  password: string,
  cost: Pick<ScryptHash, 'ln' | 'r' | 'p'> = SCRYPT_DEFAULTS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(password, salt, KEY_BYTES, optionsOf(cost));
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${base64(salt)}$${base64(hash)}`;
}

/** Reads `$scrypt$ln=L,r=R,p=P$SALT$HASH`; throws an Error saying what is wrong (never echoing the text). */
export function parseScryptHash(text: string): ScryptHash {
  const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(text);
  if (!match) {
    throw new Error(
      'the password hash is not of the form $scrypt$ln=15,r=8,p=1$SALT$HASH (make one with kjobs hash-password)',
    );
  }
  const [ln, r, p] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  if (ln < 1 || ln > MAX_LN || r < 1 || r > MAX_R || p < 1 || p > MAX_P) {
    throw new Error(`the scrypt cost must be ln 1..${MAX_LN}, r 1..${MAX_R}, p 1..${MAX_P}`);
  }
  const salt = Buffer.from(match[4] as string, 'base64');
  const hash = Buffer.from(match[5] as string, 'base64');
  if (salt.length < 8 || hash.length < 16) throw new Error('the scrypt salt or hash is too short');
  return { ln, r, p, salt, hash };
}

/** True when the password gives the hash; compared in constant time. Runs in the thread pool. */
export async function verifyScrypt(password: string, stored: ScryptHash): Promise<boolean> {
  const key = await scryptAsync(password, stored.salt, stored.hash.length, optionsOf(stored));
  return timingSafeEqual(key, stored.hash);
}

/** A hash that no password gives, with the given cost: checked for unknown users so that they take as long. */
export function decoyScryptHash(cost: Pick<ScryptHash, 'ln' | 'r' | 'p'>): ScryptHash {
  return { ...cost, salt: randomBytes(SALT_BYTES), hash: randomBytes(KEY_BYTES) };
}

/** WildFly's realm of KIE Server's application users, unless the file names another (`#$REALM_NAME=...$`). */
export const KIE_DEFAULT_REALM = 'ApplicationRealm';

/** KIE's (WildFly's) digest of a user's password: MD5 of `user:realm:password`, as bytes. */
export function kieDigest(user: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${user}:${realm}:${password}`, 'utf8').digest();
}

/** A login refused before any hashing: its client (`client`), or everyone (`server`), has too many under way. */
export class SlowCheckBusyError extends Error {
  override name = 'SlowCheckBusyError';
  constructor(readonly scope: 'client' | 'server') {
    super(
      scope === 'client'
        ? 'Too many logins under way from this address: try again in a second'
        : 'Too many logins under way: try again in a second',
    );
  }
}

export interface SlowCheckQueueOptions {
  /** Checks run at once. Default 2. */
  concurrency?: number;
  /** Checks one client (address) may have running or waiting; more are refused at once. Default 4. */
  perClient?: number;
  /** Checks waiting for a turn; more are refused at once. Default 64. */
  maxWaiting?: number;
}

/**
 * Runs at most `concurrency` slow checks at once; the others wait their turn. Bounds the memory (32 MiB a check)
 * and the thread pool time that a flood of logins with wrong passwords can take, so file reads and DNS still get
 * threads. The wait is bounded too: a client with `perClient` checks under way, or a queue of `maxWaiting`, is
 * refused before any hashing (SlowCheckBusyError), so one address flooding wrong logins (with a new user name each
 * time, past the failed-login limiter) takes a few turns, not the whole queue, and other users' logins go on.
 */
export class SlowCheckQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly perClient = new Map<string, number>();
  private readonly options: Required<SlowCheckQueueOptions>;
  /** Checks run so far. */
  count = 0;
  /** Checks run so far by scrypt cost (log2 N). */
  readonly byCost = new Map<number, number>();

  constructor(options: SlowCheckQueueOptions = {}) {
    this.options = { concurrency: 2, perClient: 4, maxWaiting: 64, ...options };
  }

  /** Runs `check` in turn for `client`, whose costs (log2 N of each hash it checks) are counted. */
  async run<T>(check: () => Promise<T>, client = '', costs: readonly number[] = []): Promise<T> {
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.options.perClient) throw new SlowCheckBusyError('client');
    const mustWait = this.running >= this.options.concurrency;
    if (mustWait && this.waiting.length >= this.options.maxWaiting) throw new SlowCheckBusyError('server');
    this.perClient.set(client, mine + 1);
    this.count++;
    for (const cost of costs) this.byCost.set(cost, (this.byCost.get(cost) ?? 0) + 1);
    if (mustWait) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await check();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    }
  }
}

/** What a scrypt check costs: N * r * p. */
export function scryptCost(hash: Pick<ScryptHash, 'ln' | 'r' | 'p'>): number {
  return 2 ** hash.ln * hash.r * hash.p;
}
