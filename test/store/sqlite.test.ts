import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { runStoreContract } from './contract.js';

const folder = mkdtempSync(join(tmpdir(), 'kjobs-sqlite-'));
let n = 0;
after(() => rmSync(folder, { recursive: true, force: true }));

runStoreContract('SQLite', async () => {
  const store = new SqliteJobStore({ path: join(folder, `store-${n++}.db`) });
  await store.migrate();
  return store;
});
