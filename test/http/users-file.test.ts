// Users with hashed passwords: kjobs' users file (scrypt) and KIE Server's application-users.properties and
// application-roles.properties, over a real server on loopback; bad files give errors naming the file and line.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BasicAuthenticator } from '../../src/http/auth.js';
import { hashPassword, parseScryptHash, verifyScrypt } from '../../src/http/passwords.js';
import {
  loadUsers,
  parseKieRoles,
  parseKieUsers,
  parseUsersFile,
  UserFileError,
} from '../../src/http/user-files.js';
import { tempFolder } from '../helpers.js';
import { PRINT_OUT, startServer } from './helpers.js';

const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

/** KIE Server's demo user as KIE's own installation scripts write it: kieserver / kieserver1!. */
const KIE_USERS = [
  '#',
  '# Properties declaration of users for the realm ApplicationRealm',
  '#$REALM_NAME=ApplicationRealm$',
  'kieserver=16c6511893651c9b4b57e0c027a96075',
  // admin / admin, and a user add-user.sh disabled (commented out)
  'admin=207b6e0cc556d7084b5e2db7d822555c',
  '#krisv=7b21a03b9918f9c629a46e119a9b8714',
  '',
].join('\n');
const KIE_ROLES = [
  '# roles',
  'kieserver=kie-server,rest-all',
  'admin=admin,analyst,rest-all',
  'krisv=kie-server',
  '',
].join('\n');

describe('scrypt hashes', () => {
  it('hashPassword makes a salted PHC string that verifies the password and no other', async () => {
    const one = await hashPassword('s3cret');
    const two = await hashPassword('s3cret');
    assert.match(one, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    assert.notEqual(one, two, 'a new salt each time');
    assert.equal(await verifyScrypt('s3cret', parseScryptHash(one)), true);
    assert.equal(await verifyScrypt('s3cret ', parseScryptHash(one)), false);
    assert.equal(await verifyScrypt('S3cret', parseScryptHash(two)), false);
  });

  it('refuses malformed hashes and costs beyond the bounds', () => {
    assert.throws(() => parseScryptHash('s3cret'), /not of the form/);
    assert.throws(() => parseScryptHash('$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'), /cost/);
  });
});

describe('users file', () => {
  it('reads NAME:HASH[:ROLES] lines, skipping comments and blank lines; roles default to kie-server', async () => {
    const hash = await hashPassword('pw');
    const users = parseUsersFile(`# users\n\nops:${hash}\nwatch:${hash}:viewer\r\n`, 'users.txt');
    assert.deepEqual(
      users.map((user) => [user.name, user.roles]),
      [
        ['ops', ['kie-server']],
        ['watch', ['viewer']],
      ],
    );
  });

  it('names the file and the line of a bad line, and never the hash or a password', async () => {
    const hash = await hashPassword('pw');
    const cases: [string, RegExp][] = [
      [`ops:${hash}\nclear:hunter2\n`, /^users\.txt:2: user clear: the password hash is not of the form/],
      [`ops:${hash}\n\n# c\nno-colon-here\n`, /^users\.txt:4: a line is NAME:HASH/],
      [`ops:${hash}\nops:${hash}:viewer\n`, /^users\.txt:2: user ops is listed twice/],
      [`ops:${hash}:\n`, /^users\.txt:1: user ops: no role/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseUsersFile(text, 'users.txt'),
        (error: Error) => {
          assert.ok(error instanceof UserFileError);
          assert.match(error.message, message);
          assert.ok(!error.message.includes(hash) && !error.message.includes('hunter2'), error.message);
          return true;
        },
      );
    }
  });

  it('a missing or unreadable file is an error naming it and the flag', () => {
    const folder = tempFolder();
    assert.throws(() => loadUsers({ usersFile: join(folder, 'nope.txt') }), {
      message: `Cannot read ${join(folder, 'nope.txt')} (--users-file): no such file`,
    });
    assert.throws(() => loadUsers({ usersFile: folder }), /\(--users-file\): it is a folder/);
    // root reads any file: an unreadable one can only be made for other users.
    if (process.getuid?.() !== 0) {
      const locked = join(folder, 'locked.txt');
      writeFileSync(locked, '');
      chmodSync(locked, 0o000);
      assert.throws(
        () => loadUsers({ usersFile: locked }),
        /locked\.txt \(--users-file\): permission denied/,
      );
    }
  });

  it('a file without users is an error, not authentication turned off', () => {
    const folder = tempFolder();
    const empty = join(folder, 'empty.txt');
    writeFileSync(empty, '# nobody yet\n\n');
    assert.throws(() => loadUsers({ usersFile: empty }), /empty\.txt \(--users-file\) holds no user/);
    const roles = join(folder, 'roles.properties');
    writeFileSync(roles, 'a=kie-server\n');
    assert.throws(
      () => loadUsers({ kieUsers: empty, kieRoles: roles }),
      /empty\.txt \(--kie-users\) holds no user/,
    );
  });

  it('a name given by two sources is refused', async () => {
    const folder = tempFolder();
    const file = join(folder, 'users.txt');
    writeFileSync(file, `ops:${await hashPassword('pw')}\n`);
    assert.throws(
      () => loadUsers({ users: [{ name: 'ops', password: 'x', roles: ['kie-server'] }], usersFile: file }),
      /User ops is given twice: by --user and by .*users\.txt/,
    );
  });

  it('over HTTP: right password 200, wrong 401, viewer reads only; checks are remembered, not repeated', async () => {
    const folder = tempFolder();
    const file = join(folder, 'users.txt');
    writeFileSync(
      file,
      `ops:${await hashPassword('right horse')}\nwatch:${await hashPassword('w')}:viewer\n`,
    );
    const users = loadUsers({
      usersFile: file,
      users: [{ name: 'dev', password: 'dev', roles: ['kie-server'] }],
    });
    const server = await startServer({ server: { users } });
    const body = JSON.stringify({ 'job-command': PRINT_OUT });
    const schedule = (auth: string) =>
      server.call('POST', '/jobs', {
        auth,
        contentType: 'application/json',
        accept: 'application/json',
        body,
      });
    assert.equal((await server.call('GET', '/jobs', { auth: 'ops:right horse' })).status, 200);
    assert.equal((await schedule('ops:right horse')).status, 201);
    assert.equal((await server.call('GET', '/jobs', { auth: 'ops:right hors' })).status, 401);
    assert.equal((await server.call('GET', '/jobs', { auth: 'ops:' })).status, 401);
    assert.equal((await server.call('GET', '/jobs', { auth: 'nobody:right horse' })).status, 401);
    assert.equal((await server.call('GET', '/jobs', { auth: 'watch:w' })).status, 200);
    assert.equal((await schedule('watch:w')).status, 403);
    assert.equal((await server.call('GET', '/jobs', { auth: 'dev:dev' })).status, 200);
    assert.equal((await server.kjobs.countByStatus()).QUEUED, 1);
  });

  it('remembers a verified password (one slow check), and every refusal pays a slow check', async () => {
    const hash = await hashPassword('pw');
    const auth = new BasicAuthenticator([
      { name: 'ops', passwordHash: hash, roles: ['kie-server'] },
      { name: 'dev', password: 'dev', roles: ['kie-server'] },
    ]);
    assert.equal((await auth.authenticate(header('ops:pw'))).name, 'ops');
    assert.equal(auth.slowCheckCount, 1);
    for (let i = 0; i < 5; i++) assert.equal((await auth.authenticate(header('ops:pw'))).name, 'ops');
    assert.equal(auth.slowCheckCount, 1, 'the next requests of the user cost no slow check');
    // Concurrent first logins with the same password share one check.
    auth.setUsers([
      { name: 'ops', passwordHash: hash, roles: ['kie-server'] },
      { name: 'dev', password: 'dev', roles: ['kie-server'] },
    ]);
    await Promise.all(Array.from({ length: 4 }, () => auth.authenticate(header('ops:pw'))));
    assert.equal(auth.slowCheckCount, 2, 'a reload forgets what was verified; concurrent checks are shared');
    // Refusals: a wrong password, an unknown user, a wrong plain password: each waits for a slow check, so that
    // timing tells neither which users exist nor how their passwords are kept.
    await assert.rejects(auth.authenticate(header('ops:PW')), { statusCode: 401 });
    assert.equal(auth.slowCheckCount, 3);
    await assert.rejects(auth.authenticate(header('nobody:pw')), { statusCode: 401 });
    assert.equal(auth.slowCheckCount, 4);
    await assert.rejects(auth.authenticate(header('dev:DEV')), { statusCode: 401 });
    assert.equal(auth.slowCheckCount, 5);
    // A wrong password after a right one is checked again (the remembered one is not a pass for any password).
    await assert.rejects(auth.authenticate(header('ops:pw2')), { statusCode: 401 });
    assert.equal(auth.slowCheckCount, 6);
    assert.equal((await auth.authenticate(header('dev:dev'))).name, 'dev');
    assert.equal(auth.slowCheckCount, 6, 'a right plain password needs no slow check');
  });

  it('a flood of wrong logins from one address takes a few turns; other users still log in (issue 27, finding 3)', async () => {
    const hash = await hashPassword('pw', { ln: 12, r: 8, p: 1 });
    const auth = new BasicAuthenticator([{ name: 'ops', passwordHash: hash, roles: ['kie-server'] }]);
    // 300 wrong logins at once from one address, a new user name each (the failed-login limiter counts per name).
    const flood = Array.from({ length: 300 }, (_, n) =>
      auth.authenticate(header(`intruder${n}:guess`), 'GET', '198.51.100.7').then(
        () => 200,
        (error: { statusCode: number }) => error.statusCode,
      ),
    );
    // The real user, from another address, asks meanwhile: at most the flood's few turns are ahead of it.
    const real = auth.authenticate(header('ops:pw'), 'GET', '203.0.113.1');
    assert.equal((await real).name, 'ops');
    const checksBeforeReal = auth.slowCheckCount;
    const statuses = await Promise.all(flood);
    assert.equal(statuses.filter((status) => status === 401).length, 4, 'four checks of the flood were run');
    assert.equal(
      statuses.filter((status) => status === 429).length,
      296,
      'the rest refused before any hashing',
    );
    assert.ok(checksBeforeReal <= 5, `slow checks before the real login was answered: ${checksBeforeReal}`);
  });

  it('a refused login takes a check at the highest cost, whatever the user, so timing shows no cheap hash', async () => {
    const auth = new BasicAuthenticator([
      { name: 'ops', passwordHash: await hashPassword('pw', { ln: 12, r: 8, p: 1 }), roles: ['kie-server'] },
      { name: 'cheap', passwordHash: await hashPassword('pw', { ln: 4, r: 8, p: 1 }), roles: ['kie-server'] },
    ]);
    await assert.rejects(auth.authenticate(header('cheap:wrong')), { statusCode: 401 });
    await assert.rejects(auth.authenticate(header('nobody:wrong')), { statusCode: 401 });
    await assert.rejects(auth.authenticate(header('ops:wrong')), { statusCode: 401 });
    assert.deepEqual(
      Object.fromEntries(auth.slowChecksByCost),
      { 4: 1, 12: 3 },
      "the cheap user's own check ran beside one at the highest cost; the others at it",
    );
  });

  it('without slow hashes, no slow check runs at all', async () => {
    const auth = new BasicAuthenticator([{ name: 'dev', password: 'dev', roles: ['kie-server'] }]);
    await assert.rejects(auth.authenticate(header('nobody:x')), { statusCode: 401 });
    await assert.rejects(auth.authenticate(header('dev:x')), { statusCode: 401 });
    assert.equal(auth.slowCheckCount, 0);
  });
});

describe("KIE Server's application-users.properties and application-roles.properties", () => {
  it('reads the realm line, skips comments and disabled users, unescapes keys', () => {
    const users = parseKieUsers(`${KIE_USERS}a\\=b=0123456789ABCDEF0123456789abcdef\n`, 'u.properties');
    assert.deepEqual([...users.keys()], ['kieserver', 'admin', 'a=b']);
    assert.deepEqual(users.get('kieserver'), {
      hex: '16c6511893651c9b4b57e0c027a96075',
      realm: 'ApplicationRealm',
    });
    assert.equal(users.get('a=b')?.hex, '0123456789abcdef0123456789abcdef');
    const other = parseKieUsers('#$REALM_NAME=OtherRealm$\nx=0123456789abcdef0123456789abcdef\n', 'u');
    assert.equal(other.get('x')?.realm, 'OtherRealm');
    assert.deepEqual(parseKieRoles(KIE_ROLES, 'r').get('kieserver'), ['kie-server', 'rest-all']);
  });

  it('a bad line is an error naming the file and the line', () => {
    assert.throws(
      () =>
        parseKieUsers(
          '#$REALM_NAME=ApplicationRealm$\nok=16c6511893651c9b4b57e0c027a96075\nbad=kieserver1!\n',
          'app-users.properties',
        ),
      (error: Error) =>
        /^app-users\.properties:3: user bad: the password digest is not 32 hexadecimal digits/.test(
          error.message,
        ) && !error.message.includes('kieserver1!'),
    );
    assert.throws(
      () => parseKieRoles('ok=kie-server\njust text\n', 'roles.properties'),
      /roles\.properties:2: a line is user=role1,role2/,
    );
    assert.throws(
      () => loadUsers({ kieUsers: 'a.properties' }),
      /both files: --kie-users .* and --kie-roles/,
    );
  });

  it('over HTTP: KIE users log in with their KIE passwords and roles, as on KIE Server', async () => {
    const folder = tempFolder();
    const usersFile = join(folder, 'application-users.properties');
    const rolesFile = join(folder, 'application-roles.properties');
    writeFileSync(usersFile, KIE_USERS);
    writeFileSync(rolesFile, `${KIE_ROLES}watcher=viewer\n`);
    writeFileSync(usersFile, `${KIE_USERS}watcher=${md5Hex('watcher:ApplicationRealm:look')}\n`);
    const users = loadUsers({ kieUsers: usersFile, kieRoles: rolesFile });
    assert.deepEqual(
      users.map((user) => user.name),
      ['kieserver', 'admin', 'watcher'],
    );
    const server = await startServer({ server: { users } });
    assert.equal((await server.call('GET', '/jobs', { auth: 'kieserver:kieserver1!' })).status, 200);
    assert.equal((await server.call('GET', '/jobs', { auth: 'kieserver:kieserver1' })).status, 401);
    // admin has no kie-server (nor user) role: KIE Server answers 403, and so does kjobs.
    const admin = await server.call('GET', '/jobs', { auth: 'admin:admin' });
    assert.equal(admin.status, 403);
    assert.match(admin.text, /does not have the role kie-server or user/);
    // A disabled user (commented out) cannot log in, though the roles file names it.
    assert.equal((await server.call('GET', '/jobs', { auth: 'krisv:krisv' })).status, 401);
    assert.equal((await server.call('GET', '/jobs', { auth: 'watcher:look' })).status, 200);
    const write = await server.call('DELETE', '/jobs/1', { auth: 'watcher:look' });
    assert.equal(write.status, 403);
  });
});

/** The digest as WildFly's add-user.sh writes it. */
function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}
