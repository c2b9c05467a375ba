/**
 * `kjobs serve` as a child process for the service-level tests: started through the CLI entry with tsx, its
 * stdout read as JSON log lines, an HTTP helper with basic auth and a per-request timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after } from 'node:test';

export const API_PATH = '/kie-server/services/rest/server';
export const USER = 'ops:pw';

export interface Service {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT` */
  address: string;
  /** Every stdout line, as written. */
  lines: string[];
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string | null>;
  /** Calls the API (paths starting with /jobs get the KIE prefix), JSON both ways, with the test user. */
  call(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs?: number,
  ): Promise<{ status: number; text: string }>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `kjobs serve --port 0 --user ops:pw ...args`; resolves once it logs that it listens. */
export function startService(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<Service> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--user', USER, ...args],
    { env: { ...process.env, KJOBS_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const lines: string[] = [];
  const errors: string[] = [];
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  createInterface({ input: child.stderr! }).on('line', (line) => errors.push(line));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kjobs did not listen within ${timeoutMs} ms:\n${[...lines, ...errors].join('\n')}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      let entry: { msg?: string; address?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg?.startsWith('kjobs listening') && entry.address) {
        clearTimeout(timer);
        const address = entry.address;
        resolve({ child, address, lines, exited, call: (...rest) => call(address, ...rest) });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`kjobs exited (${code}) before listening:\n${[...lines, ...errors].join('\n')}`));
    });
  });
}

async function call(
  address: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<{ status: number; text: string }> {
  const response = await fetch(address + (path.startsWith('/jobs') ? API_PATH + path : path), {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(USER).toString('base64')}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, text: await response.text() };
}

/** Polls `GET /jobs/ID` until the job is in one of `statuses`; answers the job (with data and errors). */
export async function waitForStatus(
  service: Service,
  id: number,
  statuses: readonly string[],
  timeoutMs = 15_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await service.call('GET', `/jobs/${id}?withErrors=true&withData=true`);
    if (answer.status !== 200) throw new Error(`GET job ${id}: ${answer.status} ${answer.text}`);
    const job = JSON.parse(answer.text) as Record<string, unknown>;
    if (statuses.includes(job['request-status'] as string)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${id} never reached ${statuses.join('/')}: ${answer.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The error messages of a job answered with withErrors=true, oldest first. */
export function errorMessages(job: Record<string, unknown>): string[] {
  const errors =
    (job['request-errors'] as { 'error-info-instance'?: { 'error-message': string }[] } | null) ?? {};
  return (errors['error-info-instance'] ?? []).map((error) => error['error-message']);
}
