/**
 * `kjobs serve` with HTTPS and hashed users, as a child process: SIGHUP reloads the certificate (open connections
 * go on) and the users file; `kjobs hash-password` makes the users-file line; `kjobs jobs` reaches it with
 * `--ca-file` or NODE_EXTRA_CA_CERTS; bad files stop the start with a line naming them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, describe, it } from 'node:test';
import { eventually, tempFolder } from '../helpers.js';
import { makeCa, makeServerCertificate, OPENSSL_SKIP } from '../http/certificates.js';
import { API_PATH, startService, type Service } from './service.js';

/** Runs the CLI to its end, with `input` on its standard input. */
function runCli(
  args: string[],
  { input = '', env = {} }: { input?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/**
 * `kjobs hash-password ARGS` on a terminal (a pseudo-terminal made by util-linux's `script`): answers each prompt
 * with the next of `answers` once the prompt shows. Resolves with the exit code and the whole screen output.
 */
function onTerminal(args: string[], answers: string[]): Promise<{ code: number | null; screen: string }> {
  const command = ['node', '--import', 'tsx', 'src/cli/main.ts', ...args].join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let prompts = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString();
    const seen = (screen.match(/(Password|Again): /g) ?? []).length;
    while (prompts < seen && prompts < answers.length) child.stdin.write(`${answers[prompts++]}\r`);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen })));
}

/** GET over HTTPS: the status and the certificate's common name. */
function get(url: string, options: RequestOptions): Promise<{ status: number; peer: string }> {
  return new Promise((resolve, reject) => {
    const call = request(url, options, (answer) => {
      const peer = String((answer.socket as TLSSocket).getPeerCertificate().subject?.CN);
      answer.resume();
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, peer }));
    });
    call.on('error', reject);
    call.end();
  });
}

const basic = (text: string) => ({ authorization: `Basic ${Buffer.from(text).toString('base64')}` });
const logged = (service: Service, pattern: RegExp) =>
  eventually(
    () => service.lines.some((line) => pattern.test(line)),
    (found) => found,
    10_000,
  );

describe('kjobs serve over HTTPS', { skip: OPENSSL_SKIP }, () => {
  const folder = tempFolder('kjobs-cli-tls-');
  const ca = OPENSSL_SKIP ? undefined : makeCa(folder);
  const certFile = join(folder, 'serve.pem');
  const keyFile = join(folder, 'serve.key');
  const usersFile = join(folder, 'users.txt');
  let aliceLine = '';

  it('kjobs hash-password makes a users-file line from standard input, never from the arguments', async () => {
    const { code, stdout, stderr } = await runCli(
      ['hash-password', 'alice', '--roles', 'kie-server,viewer'],
      {
        input: 'correct horse\n',
      },
    );
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      /^alice:\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+:kie-server,viewer\n$/,
    );
    assert.doesNotMatch(stdout + stderr, /correct horse/);
    aliceLine = stdout;
    writeFileSync(usersFile, `# kjobs users\n${aliceLine}`);
    if (existsSync('/usr/bin/script')) {
      // On a terminal: typed twice, never echoed.
      const typed = await onTerminal(['hash-password', 'ann'], ['hunter2', 'hunter2']);
      assert.equal(typed.code, 0, typed.screen);
      assert.match(
        typed.screen,
        /Password: [\s\S]*Again: [\s\S]*ann:\$scrypt\$ln=15,r=8,p=1\$\S+:kie-server/,
      );
      assert.doesNotMatch(typed.screen, /hunter2/);
      const differ = await onTerminal(['hash-password'], ['hunter2', 'hunter3']);
      assert.equal(differ.code, 1);
      assert.match(differ.screen, /the two passwords differ/);
    }
    const empty = await runCli(['hash-password'], { input: '' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /the password is empty/);
  });

  it('SIGHUP reloads the certificate without dropping connections, and the users file', async () => {
    const first = makeServerCertificate(ca!, 'serve-before');
    const second = makeServerCertificate(ca!, 'serve-after');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    const service = await startService([
      '--db',
      join(folder, 'reload.db'),
      '--tls-cert',
      certFile,
      '--tls-key',
      keyFile,
      '--users-file',
      usersFile,
    ]);
    assert.match(service.address, /^https:\/\/127\.0\.0\.1:\d+$/);
    const jobs = `${service.address}${API_PATH}/jobs`;
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: ca!.pem });
    after(() => agent.destroy());
    const kept = { agent, headers: basic('alice:correct horse') };
    assert.deepEqual(await get(jobs, kept), { status: 200, peer: 'serve-before' });
    assert.equal((await get(jobs, { ca: ca!.pem, headers: basic('bob:pw'), agent: false })).status, 401);

    // New certificate and a new user, then SIGHUP.
    copyFileSync(second.certFile, certFile);
    copyFileSync(second.keyFile, keyFile);
    const bob = await runCli(['hash-password', 'bob'], { input: 'pw' });
    writeFileSync(usersFile, `${aliceLine}${bob.stdout}`);
    service.child.kill('SIGHUP');
    await logged(service, /TLS certificate reloaded/);
    await logged(service, /users reloaded: 3 users/);
    // The open connection goes on, with the certificate it began with; new ones get the new certificate.
    assert.deepEqual(await get(jobs, kept), { status: 200, peer: 'serve-before' });
    assert.deepEqual(await get(jobs, { ca: ca!.pem, headers: basic('bob:pw'), agent: false }), {
      status: 200,
      peer: 'serve-after',
    });

    // A broken certificate or users file on the next SIGHUP: the previous ones stay, the process goes on.
    writeFileSync(certFile, 'not a certificate');
    writeFileSync(usersFile, 'carol:plain-password\n');
    service.child.kill('SIGHUP');
    await logged(service, /TLS certificate not reloaded, the previous one stays: .*serve\.pem/);
    await logged(service, /users not reloaded, the previous ones stay: .*users\.txt:1: user carol/);
    assert.ok(!service.lines.some((line) => line.includes('plain-password')), 'no password in the log');
    assert.deepEqual(await get(jobs, { ca: ca!.pem, headers: basic('bob:pw'), agent: false }), {
      status: 200,
      peer: 'serve-after',
    });

    // kjobs jobs reaches it with --ca-file, or NODE_EXTRA_CA_CERTS, and says what to do without either.
    const url = ['--url', service.address, '--user', 'bob', '--password', 'pw', '--json'];
    const withFlag = await runCli(['jobs', 'list', ...url, '--ca-file', ca!.certFile]);
    assert.equal(withFlag.code, 0, withFlag.stderr);
    assert.deepEqual(JSON.parse(withFlag.stdout), []);
    const withEnv = await runCli(['jobs', 'list', ...url], { env: { NODE_EXTRA_CA_CERTS: ca!.certFile } });
    assert.equal(withEnv.code, 0, withEnv.stderr);
    const without = await runCli([
      'jobs',
      'list',
      '--url',
      service.address,
      '--user',
      'bob',
      '--password',
      'pw',
    ]);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /certificate/);
    assert.match(without.stderr, /--ca-file FILE \(KJOBS_CA_FILE\) or NODE_EXTRA_CA_CERTS=FILE/);

    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0);
  });
});

describe('kjobs serve: users and TLS files at start-up', () => {
  const folder = tempFolder('kjobs-cli-users-');

  it('a bad users file stops the start with its name and line, and no hash or password', async () => {
    const file = join(folder, 'users.txt');
    writeFileSync(file, '# users\nops:$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$secretsecretsecret\nclear:hunter2\n');
    const run = await runCli(['serve', '--port', '0', '--db', join(folder, 'a.db'), '--users-file', file]);
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /kjobs could not start: .*users\.txt:2: user ops: the scrypt salt or hash is too short/,
    );
    assert.doesNotMatch(run.stdout + run.stderr, /secretsecret|hunter2|\n\s+at /);
    const missing = await runCli(['serve', '--port', '0', '--db', join(folder, 'b.db'), '--kie-users', file]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /KIE users need both files/);
    const noKey = await runCli([
      'serve',
      '--port',
      '0',
      '--db',
      join(folder, 'c.db'),
      '--user',
      'a:b',
      '--tls-cert',
      file,
    ]);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stdout, /HTTPS needs both --tls-cert FILE and --tls-key FILE/);
  });

  it('users on a non-loopback address without TLS: a warning that credentials travel in clear', async () => {
    // The port is held on 127.0.0.1, so binding 0.0.0.0 fails right after the warning: nothing is exposed.
    const holder = createNetServer().listen(0, '127.0.0.1');
    await new Promise((ready) => holder.once('listening', ready));
    after(() => holder.close());
    const port = String((holder.address() as AddressInfo).port);
    const args = [
      'serve',
      '--port',
      port,
      '--host',
      '0.0.0.0',
      '--db',
      join(folder, 'd.db'),
      '--user',
      'a:b',
    ];
    const run = await runCli(args, { env: { KJOBS_LOG_FORMAT: 'json' } });
    assert.match(run.stdout, /credentials travel in clear: .*--tls-cert and --tls-key/);
    assert.equal(run.code, 1);
    const behindProxy = await runCli([...args, '--trust-proxy'], { env: { KJOBS_LOG_FORMAT: 'json' } });
    assert.doesNotMatch(behindProxy.stdout, /credentials travel in clear/);
  });
});
