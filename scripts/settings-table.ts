// The rows of docs/configuration.md's settings table, from src/config/settings.ts: flag, variable, file key and
// default as the settings table has them, and the setting's help as the meaning (the page may say more there).
// test/cli/configuration-doc.test.ts checks that the page has a row for every setting and that its first four
// cells are these. Run: node --import tsx scripts/settings-table.ts
import { pathToFileURL } from 'node:url';
import { SETTINGS, type Setting } from '../src/config/settings.js';

/** Markdown table cells cannot hold a bare `|`. */
const cell = (text: string) => text.replaceAll('|', '\\|');

/** The flag as `--help` shows it; repeatable ones say so. */
export function flagCell(setting: Setting): string {
  return cell(`\`${setting.flag}\``) + (setting.kind === 'list' ? ' (repeatable)' : '');
}

/** The variable, with its value's form when that differs from the flag's (`KJOBS_EXECUTOR=false`). */
export function variableCell(setting: Setting): string {
  const hint = setting.envHint ?? (setting.kind === 'switch' ? '=true' : '');
  return cell(`\`${setting.env}${hint}\``);
}

export function keyCell(setting: Setting): string {
  return `\`${setting.key}\``;
}

/** The default: a value in backticks, or words (`off`, `the host name`, `none`). */
export function defaultCell(setting: Setting): string {
  if (setting.kind === 'switch') return setting.default ? 'on' : 'off';
  if (setting.kind === 'list') return 'none';
  if (setting.shownDefault !== undefined) return cell(setting.shownDefault);
  return setting.default !== undefined ? cell(`\`${setting.default}\``) : 'none';
}

/** The first four cells of the setting's row: flag, variable, file key, default. */
export function settingCells(setting: Setting): string[] {
  return [flagCell(setting), variableCell(setting), keyCell(setting), defaultCell(setting)];
}

export const TABLE_HEADER = '| flag | variable | file key | default | meaning |\n|---|---|---|---|---|';

/** Every setting's row, its help as the meaning. */
export function settingRows(settings: readonly Setting[] = SETTINGS): string {
  return settings
    .map((setting) => `| ${[...settingCells(setting), cell(setting.help)].join(' | ')} |`)
    .join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(`${TABLE_HEADER}\n${settingRows()}`);
}
