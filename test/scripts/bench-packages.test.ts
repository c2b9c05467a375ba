/**
 * The benchmarks' packages are their own install (bench/package.json, installed by `npm run bench`): the project's
 * install, which users and CI run, holds none of them, and nothing outside bench/ imports them. Every package bench/
 * imports is declared by bench/package.json or by the project.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const manifest = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Manifest;
const names = (pkg: Manifest) => [
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.devDependencies ?? {}),
];
const project = manifest('package.json');
const bench = manifest('bench/package.json');
/** Packages both declare on purpose: the types of Node.js itself, which bench/ pins for its own type check. */
const SHARED = ['@types/node'];

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder)).flatMap((entry) => {
    const path = join(folder, entry);
    if (['node_modules', 'results', 'fixtures', 'golden'].includes(entry)) return [];
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return /\.(ts|mjs|js)$/.test(entry) ? [path] : [];
  });
}

/** The packages a file imports (static and dynamic imports; not node: modules, not relative paths). */
function imported(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/g)].map((match) => match[1]!);
  return specifiers
    .filter((specifier) => /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/\S*)?$/.test(specifier))
    .map((specifier) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

describe("the benchmarks' own install", () => {
  it("the project's package.json declares none of the benchmarks' packages", () => {
    const own = names(bench).filter((name) => !SHARED.includes(name));
    assert.ok(own.includes('bullmq') && own.includes('autocannon'), own.join(' '));
    assert.deepEqual(
      own.filter((name) => names(project).includes(name)),
      [],
    );
  });

  it('nothing outside bench/ imports them', () => {
    const own = new Set(names(bench).filter((name) => !SHARED.includes(name)));
    const found = ['src', 'test', 'scripts', 'bin', 'examples'].flatMap((folder) =>
      sources(folder).flatMap((file) =>
        imported(file)
          .filter((name) => own.has(name))
          .map((name) => `${file}: ${name}`),
      ),
    );
    assert.deepEqual(found, []);
  });

  it('every package bench/ imports is declared by bench/package.json or by the project', () => {
    const declared = new Set([...names(bench), ...names(project)]);
    const files = sources('bench');
    assert.ok(files.includes(join('bench', 'run.ts')));
    const undeclared = files.flatMap((file) =>
      imported(file)
        .filter((name) => !declared.has(name))
        .map((name) => `${file}: ${name}`),
    );
    assert.deepEqual(undeclared, []);
  });
});
