import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An absolute file path or file URL starting a frame's location, up to its `:line:column`. */
const ABSOLUTE_PATH = /(^|[\s(])((?:file:\/\/)?(\/[^\s():]+))/gm;

/**
 * A stack trace as a job's error record keeps it: file paths relative to `root` (the server's working folder),
 * so API users read `dist/commands/builtins.js:10:5` and not where the server is installed.
 */
export function relativeStackTrace(stack: string, root: string): string {
  return stack.replace(ABSOLUTE_PATH, (match, before: string, location: string, path: string) => {
    try {
      const file = location.startsWith('file://') ? fileURLToPath(location) : path;
      return before + (relative(root, file) || '.');
    } catch {
      return match;
    }
  });
}
