import { createRequire } from 'node:module';

/** The kjobs version, from package.json (one level up from both src and dist). */
export const KJOBS_VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;
