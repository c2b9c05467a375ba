import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createKjobs, type Kjobs, type KjobsOptions } from '../src/kjobs.js';

/** A folder removed when the test file ends. */
export function tempFolder(prefix = 'kjobs-test-'): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** A TCP port of 127.0.0.1 that nothing listens on (at the moment of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let count = 0;

/** A started kjobs on a fresh SQLite file, stopped when the test file ends. */
export async function startKjobs(options: KjobsOptions = {}, folder = tempFolder()): Promise<Kjobs> {
  const kjobs = await createKjobs({ store: join(folder, `kjobs-${count++}.db`), ...options });
  await kjobs.start();
  after(() => kjobs.stop(100));
  return kjobs;
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  predicate: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (predicate(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
