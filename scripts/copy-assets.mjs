// tsc compiles TypeScript only: copy the SQL migrations (and the console's static files) next to the output.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function copySql(from, to) {
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    if (statSync(source).isDirectory()) copySql(source, join(to, entry));
    else if (entry.endsWith('.sql')) cpSync(source, join(to, entry));
  }
}
copySql('src', 'dist');
if (existsSync('console/public')) cpSync('console/public', 'dist/console', { recursive: true });
