/**
 * What authentication costs a request (docs/operations.md, *Users with hashed passwords*): `authenticate()` alone
 * for a `--user` user and for a users-file (scrypt) user whose verification is remembered, one first scrypt check
 * and one wrong password, then an authenticated `GET .../jobs` over loopback (keep-alive, one request at a time) without
 * users, with a `--user` user and with a users-file user, in interleaved rounds.
 *
 *   node --import tsx bench/experiments/auth-cost.ts          (ROUNDS=3 REQUESTS=3000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicAuthenticator, type User } from '../../src/http/auth.js';
import { hashPassword } from '../../src/http/passwords.js';
import { createServer } from '../../src/http/server.js';
import { createKjobs } from '../../src/kjobs.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const REQUESTS = Number(process.env.REQUESTS ?? 3000);
const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
const elapsedMs = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

const users: User[] = [
  { name: 'dev', password: 'plain-password', roles: ['kie-server'] },
  { name: 'ops', passwordHash: await hashPassword('hashed-password'), roles: ['kie-server'] },
];

const auth = new BasicAuthenticator(users);
for (const [label, credentials] of [
  ['--user', 'dev:plain-password'],
  ['users file, remembered', 'ops:hashed-password'],
] as const) {
  await auth.authenticate(header(credentials));
  const count = 100_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await auth.authenticate(header(credentials));
  console.log(`authenticate(), ${label}: ${((elapsedMs(start) * 1000) / count).toFixed(1)} µs`);
}
let start = process.hrtime.bigint();
await new BasicAuthenticator(users).authenticate(header('ops:hashed-password'));
console.log(`authenticate(), users file, first check (scrypt): ${elapsedMs(start).toFixed(0)} ms`);
start = process.hrtime.bigint();
await auth.authenticate(header('ops:wrong')).catch(() => undefined);
console.log(`authenticate(), wrong password: ${elapsedMs(start).toFixed(0)} ms`);

const folder = mkdtempSync(join(tmpdir(), 'kjobs-auth-cost-'));
const kjobs = await createKjobs({ store: join(folder, 'jobs.db'), executor: false });
await kjobs.start();
const targets: { label: string; origin: string; credentials?: string }[] = [];
const open = await createServer(kjobs);
const secured = await createServer(kjobs, { users });
const openOrigin = await open.listen({ port: 0, host: '127.0.0.1' });
const securedOrigin = await secured.listen({ port: 0, host: '127.0.0.1' });
targets.push(
  { label: 'no users', origin: openOrigin },
  { label: '--user', origin: securedOrigin, credentials: 'dev:plain-password' },
  { label: 'users file', origin: securedOrigin, credentials: 'ops:hashed-password' },
);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const get = (origin: string, credentials?: string) =>
  new Promise<void>((resolve, reject) => {
    const headers = {
      accept: 'application/json',
      ...(credentials ? { authorization: header(credentials) } : {}),
    };
    const call = request(`${origin}/kie-server/services/rest/server/jobs`, { agent, headers }, (answer) => {
      if (answer.statusCode !== 200) reject(new Error(`HTTP ${answer.statusCode}`));
      answer.resume();
      answer.on('end', resolve);
    });
    call.on('error', reject);
    call.end();
  });
for (let round = 1; round <= ROUNDS; round++) {
  for (const target of targets) {
    for (let i = 0; i < 300; i++) await get(target.origin, target.credentials);
    const begin = process.hrtime.bigint();
    for (let i = 0; i < REQUESTS; i++) await get(target.origin, target.credentials);
    console.log(
      `round ${round}, GET, ${target.label}: ${((elapsedMs(begin) * 1000) / REQUESTS).toFixed(0)} µs`,
    );
  }
}
agent.destroy();
await open.close();
await secured.close();
await kjobs.stop(100);
rmSync(folder, { recursive: true, force: true });
