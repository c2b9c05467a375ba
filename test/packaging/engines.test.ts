/**
 * What `npm ci` installs supports the Node.js versions kjobs supports, so that an install warns of no engine
 * (EBADENGINE): every package of package-lock.json admits the Node.js that runs the tests, and every production
 * package also the oldest Node.js of kjobs' own `engines`. (cookie 2, through fastify's light-my-request, needs
 * Node.js 22: package.json's overrides keep cookie 1 there.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url);
// fastify's own dependency, so always installed.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
};

interface LockEntry {
  version?: string;
  dev?: boolean;
  engines?: { node?: string };
}

const manifest = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(new URL('package-lock.json', ROOT), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

/** The packages of the lock whose `engines.node` does not admit `version`. */
function refusing(version: string, entries: [string, LockEntry][]): string[] {
  return entries
    .filter(([, entry]) => entry.engines?.node && !semver.satisfies(version, entry.engines.node))
    .map(
      ([path, entry]) =>
        `${path.replace(/^.*node_modules\//, '')}@${entry.version}: node ${entry.engines!.node}`,
    );
}

describe('package-lock.json', () => {
  const entries = Object.entries(lock.packages).filter(([path]) => path.includes('node_modules/'));

  it('holds no package that refuses the Node.js running the tests', () => {
    assert.deepEqual(refusing(process.version, entries), []);
  });

  it("holds no production package that refuses the oldest Node.js of kjobs' engines", () => {
    const oldest = semver.minVersion(manifest.engines.node)!.version;
    assert.deepEqual(
      refusing(
        oldest,
        entries.filter(([, entry]) => !entry.dev),
      ),
      [],
    );
  });
});
