// `npm run bench`: the benchmarks have their own install (bench/package.json: the queues kjobs is measured against
// and the HTTP load generator), so that `npm install` for users and CI installs only what the service and its tests
// need. This installs them (`npm ci` in bench/) on the first run and whenever bench/package-lock.json changed,
// then runs bench/run.ts with the same arguments and environment. `--install-only` stops after the install.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bench = join(root, 'bench');
const installed = join(bench, 'node_modules', '.package-lock.json'); // npm writes it after every install

function installIsCurrent() {
  return (
    existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(bench, 'package-lock.json')).mtimeMs
  );
}

if (!installIsCurrent()) {
  console.error("bench: installing the benchmarks' packages (npm ci in bench/, once)");
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // Its output goes to stderr: stdout stays the benchmark's own.
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: bench,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (result.status !== 0) {
    console.error(`bench: npm ci in bench/ failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(1);
  }
}
if (process.argv.includes('--install-only')) process.exit(0);

const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', join('bench', 'run.ts'), ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
process.exit(run.status ?? 1);
