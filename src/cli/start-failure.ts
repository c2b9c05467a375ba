/**
 * Why `kjobs serve` or `kjobs worker` could not start, in the operator's terms: what is wrong and which flag or
 * variable fixes it. Operator mistakes get no stack trace (the debug level has it).
 */
import { ContainerLoadError } from '../commands/registry.js';
import type { Config } from '../config/config.js';

export function startFailureMessage(error: unknown, config: Pick<Config, 'port' | 'host'>): string {
  const { code, syscall, hostname } = error as { code?: string; syscall?: string; hostname?: string };
  if (code === 'EADDRINUSE') {
    return (
      `port ${config.port} on ${config.host} is already in use: stop the process that holds it, or choose ` +
      'another port with --port N or KJOBS_PORT=N (0 picks a free one)'
    );
  }
  if (code === 'EACCES' && syscall === 'listen') {
    return (
      `not allowed to listen on port ${config.port} (ports below 1024 need privileges): choose another ` +
      'with --port N or KJOBS_PORT=N'
    );
  }
  if (code === 'EADDRNOTAVAIL' || (code === 'ENOTFOUND' && hostname === config.host)) {
    return `cannot listen on ${config.host}: it is no address of this machine; fix --host or KJOBS_HOST`;
  }
  if (error instanceof ContainerLoadError) {
    return `${error.message}; fix --container ${error.containerId}=MODULE (or KJOBS_CONTAINERS)`;
  }
  return error instanceof Error ? error.message : String(error);
}
