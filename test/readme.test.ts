/**
 * Every shell and TypeScript example of the documentation, run in order as a user would: the pages of docs/ in the
 * order of README.md's table of contents, then README.md itself (its first example schedules a job of its own, so
 * the job ids the pages show stay theirs), each page's blocks in their order. Shell blocks run with bash against one
 * fresh `kjobs serve` started with the example containers (as docs/library.md says), sharing shell variables from
 * page to page (docs/extensions.md uses `$KIE` and `$J` of docs/api.md), TypeScript blocks with tsx. A block
 * that fails (a command's non-zero exit, curl on an HTTP error, a thrown error) fails this test. Blocks a test cannot
 * run carry `<!-- readme-test: skip (reason) -->` on the line before them; a block marked
 * `<!-- readme-test: same as FILE -->` must equal that file. JSON, XML and unlabelled blocks show answers and
 * diagrams, not code to run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { headingSlugs, relativeLinks } from './doc-links.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUN_LANGUAGES = new Set(['sh', 'bash', 'ts', 'js', 'ruby', 'python']);
const MARKER = /^<!-- readme-test: (skip \((?<reason>[^)]+)\)|same as (?<file>\S+)) -->$/;

interface Block {
  /** The page, relative to the project: README.md, docs/api.md. */
  page: string;
  line: number;
  language: string;
  code: string;
  marker: RegExpExecArray | null;
}

function readmeBlocks(page: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^```(\S*)\s*$/.exec(lines[index]!);
    if (!open) continue;
    const end = lines.indexOf('```', index + 1);
    assert.ok(end > index, `${page} line ${index + 1}: the block is not closed`);
    blocks.push({
      page,
      line: index + 1,
      language: open[1]!,
      code: lines.slice(index + 1, end).join('\n') + '\n',
      marker: MARKER.exec(lines[index - 1] ?? ''),
    });
    index = end;
  }
  return blocks;
}

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The pages of docs/ as README.md's table of contents links them (in its order), then README.md. */
const linked = [...readme.matchAll(/\]\((docs\/[\w-]+\.md)\)/g)].map((link) => link[1]!);
const pages = [...new Set(linked), 'README.md'];
const blocks = pages.flatMap((page) => readmeBlocks(page, readFileSync(join(ROOT, page), 'utf8')));
/** `docs/api.md` line 12 → `docs-api-12`: a name for the block's files. */
const fileName = (block: Block) => `${block.page.replace(/\.md$/, '').replaceAll('/', '-')}-${block.line}`;
const work = mkdtempSync(join(tmpdir(), 'kjobs-readme-'));
// The user's folder: the examples and the installed packages, as in a clone of the project.
symlinkSync(join(ROOT, 'examples'), join(work, 'examples'));
symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
const shellState = join(work, '.shell-state');
writeFileSync(shellState, '');
let port = 0;
let server: ReturnType<typeof spawn> | undefined;
const serverLog: string[] = [];

before(async () => {
  // As docs/library.md starts it, on a free port.
  server = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'serve',
      '--port',
      '0',
      '--db',
      join(work, 'kjobs.db'),
      '--container',
      'acme=./examples/acme-commands.mjs',
      '--container',
      'billing-1.0=./examples/billing-commands.mjs',
    ],
    { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KJOBS_LOG_LEVEL: 'info' } },
  );
  createInterface({ input: server.stderr! }).on('line', (line) => serverLog.push(line));
  port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kjobs did not start:\n${serverLog.join('\n')}`)),
      30_000,
    );
    createInterface({ input: server!.stdout! }).on('line', (line) => {
      serverLog.push(line);
      const address = /"address":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(line);
      if (address) {
        clearTimeout(timer);
        resolve(Number(address[1]));
      }
    });
  });
});

after(() => {
  server?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** The block as it runs here: the server's real port instead of 8080. */
function localized(code: string): string {
  return code
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)
    .replaceAll('localhost:8080', `127.0.0.1:${port}`);
}

function run(command: string, args: string[], label: string) {
  const result = spawnSync(command, args, { cwd: work, encoding: 'utf8', timeout: 240_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(
    result.status,
    0,
    `${label} failed (exit ${result.status}${result.signal ? `, ${result.signal}` : ''}):\n${output}\n` +
      `server log (last lines):\n${serverLog.slice(-15).join('\n')}`,
  );
  return result.stdout;
}

/**
 * A shell block in bash, stopping at the first failing command. `kjobs` and `npx kjobs` run the CLI from the
 * sources, curl fails on HTTP errors (`--fail-with-body`), and variables carry over to the next blocks (the
 * later pages use `$KIE` and `$J` from the curl examples of docs/api.md).
 */
function runShell(block: Block): void {
  const script = [
    'set -a -e -o pipefail',
    `source ${JSON.stringify(shellState)}`,
    `kjobs() { node --import tsx ${JSON.stringify(join(ROOT, 'src/cli/main.ts'))} "$@"; }`,
    'npx() { if [ "$1" = kjobs ]; then shift; kjobs "$@"; else command npx "$@"; fi; }',
    'curl() { command curl --fail-with-body --show-error "$@"; }',
    localized(block.code),
    `export -p > ${JSON.stringify(shellState)}`,
  ].join('\n');
  run('bash', ['-c', script], `${block.page} line ${block.line} (sh)`);
}

/**
 * A TypeScript block with tsx, importing kjobs from the sources. A fragment that uses `kjobs` or `DB` without
 * creating them gets them first: a kjobs on a SQLite file with the acme container, and a database path.
 */
function runTypeScript(block: Block): void {
  let code = localized(block.code)
    .replaceAll("from 'kjobs'", `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`)
    .replaceAll("from 'kjobs/client'", `from ${JSON.stringify(join(ROOT, 'src/client/index.ts'))}`);
  const prelude: string[] = [];
  const declares = (name: string) => new RegExp(`\\b(const|let)\\s+${name}\\b`).test(code);
  if (/\bDB\b/.test(code) && !declares('DB')) prelude.push(`const DB = './data/${fileName(block)}.db';`);
  if (/\bkjobs\./.test(code) && !declares('kjobs')) {
    prelude.push(
      `const kjobs = await createKjobs({ store: './data/${fileName(block)}-fragment.db', executor: false,`,
      `  containers: { acme: './examples/acme-commands.mjs' } });`,
    );
  }
  if ((prelude.length > 0 || /\bcreateKjobs\(/.test(code)) && !/import \{[^}]*\bcreateKjobs\b/.test(code)) {
    prelude.unshift(`import { createKjobs } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};`);
  }
  code = `${prelude.join('\n')}\n${code}\nprocess.exit(0);\n`;
  const file = join(work, `${fileName(block)}.mts`);
  writeFileSync(file, code);
  const stdout = run(process.execPath, ['--import', 'tsx', file], `${block.page} line ${block.line} (ts)`);
  // `console.log(...); // TEXT` promises TEXT on stdout.
  for (const [, expected] of block.code.matchAll(/console\.log\(.*\);[ \t]*\/\/[ \t]*(.+)$/gm)) {
    assert.ok(
      stdout.includes(expected!.trim()),
      `${block.page} line ${block.line}: expected "${expected}" in:\n${stdout}`,
    );
  }
}

describe('README.md and docs/ examples', () => {
  it('README.md links every page of docs/ (so that its examples run)', () => {
    const all = readdirSync(join(ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`);
    assert.deepEqual([...all].sort(), pages.filter((page) => page !== 'README.md').sort());
  });

  it('every relative link and image of the pages leads to a file, and to a heading of it', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const { target, line } of relativeLinks(readFileSync(join(ROOT, page), 'utf8'))) {
        const [path = '', anchor] = target.split('#');
        const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(path));
        if (!existsSync(file)) broken.push(`${page} line ${line}: ${target} (no such file)`);
        else if (anchor && file.endsWith('.md') && !headingSlugs(readFileSync(file, 'utf8')).has(anchor))
          broken.push(`${page} line ${line}: ${target} (no such heading)`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('every block of code is run, checked against its file, or says why not', () => {
    for (const block of blocks) {
      if (!RUN_LANGUAGES.has(block.language)) continue;
      if (block.marker?.groups?.file) {
        const file = readFileSync(join(ROOT, block.marker.groups.file), 'utf8');
        assert.equal(
          block.code,
          file,
          `${block.page} line ${block.line} differs from ${block.marker.groups.file}`,
        );
      } else if (!block.marker && !['sh', 'bash', 'ts'].includes(block.language)) {
        assert.fail(
          `${block.page} line ${block.line}: no way to run ${block.language} here; mark it readme-test: skip (why)`,
        );
      }
    }
    const run = blocks.filter((block) => ['sh', 'bash', 'ts'].includes(block.language) && !block.marker);
    assert.ok(run.length >= 10, `only ${run.length} blocks to run: did the parser break?`);
  });

  for (const block of blocks) {
    if (!['sh', 'bash', 'ts'].includes(block.language) || block.marker) continue;
    it(`${block.page} line ${block.line} (${block.language}): ${block.code
      .split('\n')
      .find((line) => line.trim())
      ?.slice(0, 70)}`, () => (block.language === 'ts' ? runTypeScript(block) : runShell(block)));
  }
});
