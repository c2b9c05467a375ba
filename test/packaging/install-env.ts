/**
 * What the packaging tests' installs share: a shell's environment without the outer `npm test`'s variables, and
 * better-sqlite3's binary from the checkout's own build as a local prebuild, so that an install neither downloads it
 * (github.com may be unreachable) nor compiles it from source (minutes). Its install script still runs: prebuild-
 * install finds the binary in `npm_config_better_sqlite3_local_prebuilds` under the name it would download.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** npm's settings that the outer `npm test` passes on and the installs here keep: the cache, the registry. */
const KEPT_NPM_SETTINGS = ['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig'];

/** The environment of a user's shell: none of the outer `npm test`'s other npm_* variables. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) || KEPT_NPM_SETTINGS.includes(name)),
  );
  delete env.NODE_TEST_CONTEXT;
  return { ...env, ...extra };
}

/**
 * Writes the checkout's better-sqlite3 binary into `folder` as the prebuild an install looks for, and answers the
 * environment that points installs at it (none when the checkout has no binary: installs then fetch or compile it).
 */
export function localPrebuilds(folder: string): Record<string, string> {
  const module = join(ROOT, 'node_modules/better-sqlite3');
  if (!existsSync(join(module, 'build/Release/better_sqlite3.node'))) return {};
  mkdirSync(folder, { recursive: true });
  const { version } = JSON.parse(readFileSync(join(module, 'package.json'), 'utf8')) as { version: string };
  const header = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header;
  const libc = process.platform === 'linux' && !header.glibcVersionRuntime ? 'musl' : '';
  const name =
    `better-sqlite3-v${version}-node-v${process.versions.modules}-` +
    `${process.platform}${libc}-${process.arch}.tar.gz`;
  const tar = spawnSync('tar', ['-czf', join(folder, name), 'build/Release/better_sqlite3.node'], {
    cwd: module,
    encoding: 'utf8',
  });
  assert.equal(tar.status, 0, tar.stderr);
  return { npm_config_better_sqlite3_local_prebuilds: folder };
}
