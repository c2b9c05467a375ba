import { createRequire } from 'node:module';

/** The kjobs version, from package.json (two levels up from both src/config and dist/config). */
export const KJOBS_VERSION: string = (
  createRequire(import.meta.url)('../../package.json') as { version: string }
).version;
