// docs/configuration.md lists every setting of src/config/settings.ts, and every settings table of the docs says
// what the settings table says: flag, variable, file key and default (scripts/settings-table.ts prints the rows).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SETTINGS, flagName, type Setting } from '../../src/config/settings.js';
import { settingCells } from '../../scripts/settings-table.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const HEADER = /^\| flag \| variable \| file key \| default \| meaning \|$/;

interface Row {
  page: string;
  line: number;
  cells: string[];
}

/** The cells of a table line; `\|` stays inside its cell. */
function cellsOf(line: string): string[] {
  return line
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** The rows of every settings table (those with the header above) of a page. */
function settingsRows(page: string): Row[] {
  const lines = readFileSync(join(DOCS, page), 'utf8').split('\n');
  const rows: Row[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (!HEADER.test(lines[index]!)) continue;
    for (index += 2; index < lines.length && lines[index]!.startsWith('|'); index++) {
      rows.push({ page, line: index + 1, cells: cellsOf(lines[index]!) });
    }
  }
  return rows;
}

/** The setting a row is about: the flag its first cell names (and its variable, where commands share a flag). */
function settingOf(row: Row): Setting | undefined {
  const flag = /^`(--[a-z-]+)/.exec(row.cells[0] ?? '')?.[1];
  const named = SETTINGS.filter((setting) => flagName(setting) === flag);
  if (named.length <= 1) return named[0];
  const variable = /^`([A-Z_]+)/.exec(row.cells[1] ?? '')?.[1];
  return named.find((setting) => setting.env === variable);
}

describe('docs/configuration.md', () => {
  const rows = settingsRows('configuration.md');

  it('has a row for every setting', () => {
    const documented = new Set(rows.map((row) => settingOf(row)));
    const missing = SETTINGS.filter((setting) => !documented.has(setting)).map((setting) => setting.flag);
    assert.deepEqual(
      missing,
      [],
      `not in docs/configuration.md (node --import tsx scripts/settings-table.ts)`,
    );
  });

  it('has each setting once, with a meaning', () => {
    const seen = rows.map((row) => settingOf(row)?.key);
    assert.deepEqual(
      seen.filter((key, index) => seen.indexOf(key) !== index),
      [],
    );
    for (const row of rows) assert.ok((row.cells[4] ?? '').length > 0, `line ${row.line}: no meaning`);
  });

  it('the config file example uses only file keys of the table', () => {
    const text = readFileSync(join(DOCS, 'configuration.md'), 'utf8');
    const example = /<!-- config-file-example -->\n```json\n([\s\S]*?)```/.exec(text)?.[1];
    assert.ok(example, 'the config file example is marked');
    const keys = Object.keys(JSON.parse(example) as object);
    assert.deepEqual(
      keys.filter((key) => !SETTINGS.some((setting) => setting.key === key)),
      [],
    );
  });
});

describe('the settings tables of docs/', () => {
  const pages = readdirSync(DOCS).filter((name) => name.endsWith('.md'));
  const rows = pages.flatMap(settingsRows);

  it('name only settings, with the flag, variable, file key and default of src/config/settings.ts', () => {
    assert.ok(rows.length >= SETTINGS.length);
    for (const row of rows) {
      const setting = settingOf(row);
      assert.ok(setting, `docs/${row.page} line ${row.line}: ${row.cells[0]} is no setting`);
      assert.deepEqual(row.cells.slice(0, 4), settingCells(setting), `docs/${row.page} line ${row.line}`);
    }
  });
});
