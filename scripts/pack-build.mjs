// `npm pack` (prepack): builds what a package ships from a clean folder, so that nothing stale or left over from a
// development build is packed. `node scripts/pack-build.mjs` builds kjobs (dist/: the library, the CLI, the SQL
// migrations and the console's files); `node scripts/pack-build.mjs client` builds @kjobs/client
// (packages/client/dist/: src/client and src/kie only). No source maps: the sources are not in the packages.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');

function run(args, cwd) {
  const result = spawnSync(process.execPath, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const client = process.argv[2] === 'client';
const folder = client ? join(root, 'packages', 'client') : root;
rmSync(join(folder, 'dist'), { recursive: true, force: true });
run([tsc, '-p', client ? 'tsconfig.json' : 'tsconfig.build.json', '--sourceMap', 'false'], folder);
if (!client) run([join(root, 'scripts', 'copy-assets.mjs')], root);
