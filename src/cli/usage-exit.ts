/** How every `kjobs` command ends on a usage error: exit code 2, whatever code commander would use. */
import type { CommanderError } from 'commander';

/** Exit code of a usage error (unknown option or command, missing or malformed argument): nothing was done. */
export const USAGE_EXIT_CODE = 2;

/**
 * commander's exit callback (`exitOverride`): its usage errors exit with 2 instead of its 1; help and version
 * (0), and errors raised with a code of their own, keep theirs.
 */
export function exitOnUsageError(error: CommanderError): never {
  const usage = error.exitCode === 1 && error.code.startsWith('commander.');
  process.exit(usage ? USAGE_EXIT_CODE : error.exitCode);
}
