#!/usr/bin/env node
// The `kjobs` command. In a source checkout it first builds dist/ when dist is missing or older than src/
// (so `npm start` works on a fresh clone), then runs dist/cli/main.js.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'cli', 'main.js');
const sources = join(root, 'src');

/** Newest modification time of the files under a folder. */
function newest(folder) {
  let latest = 0;
  for (const item of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, item.name);
    latest = Math.max(latest, item.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function needsBuild() {
  if (!existsSync(sources) || !existsSync(join(root, 'tsconfig.build.json'))) return false; // an installed package
  return !existsSync(entry) || statSync(entry).mtimeMs < newest(sources);
}

if (needsBuild()) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    console.error(
      'kjobs: dist/ is missing or out of date and TypeScript is not installed: run npm install first',
    );
    process.exit(1);
  }
  console.error('kjobs: building (dist/ is missing or older than src/)...');
  const steps = [[tsc, '-p', join(root, 'tsconfig.build.json')], [join(root, 'scripts', 'copy-assets.mjs')]];
  for (const args of steps) {
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) {
      // tsc still writes its output when it reports type errors; run that output if it is there.
      if (!existsSync(entry)) {
        console.error('kjobs: the build failed');
        process.exit(result.status ?? 1);
      }
      console.error('kjobs: the build reported errors; starting with what it produced');
    }
  }
}

await import(pathToFileURL(entry).href);
