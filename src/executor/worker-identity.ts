/**
 * A worker id that proves, on its own host, whether its process still lives: `host:pid:random@boot/ns/start`, with
 * the kernel's boot id, the inode of the process's pid namespace and the process's start time (clock ticks after
 * boot, /proc/PID/stat). A worker reading another worker's id on the same host, same boot and same pid namespace
 * can tell for sure that the process is gone (no such pid, or a pid now used by a process started at another time),
 * and rescue its jobs at once instead of waiting for its leases to run out. Anything it cannot tell (another host, a
 * container with its own pid namespace, a system without /proc, an id given by the user) is left to the leases.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** What identifies a running process on a Linux host. */
export interface ProcessIdentity {
  bootId: string;
  pidNamespace: string;
  pid: number;
  startTicks: string;
}

const ID_PATTERN = /^(.*):(\d+):([0-9a-f]+)@([0-9a-f]{32})\/(\d+)\/(\d+)$/;

/** This process's identity, or undefined where /proc cannot tell (not Linux, /proc hidden). */
export function ownIdentity(): ProcessIdentity | undefined {
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
    const pidNamespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
    const startTicks = startTicksOf(process.pid);
    if (!/^[0-9a-f]{32}$/.test(bootId) || !pidNamespace || !startTicks) return undefined;
    return { bootId, pidNamespace, pid: process.pid, startTicks };
  } catch {
    return undefined;
  }
}

/** A new worker id for this process: host, pid and a random part, then the identity when /proc gives one. */
export function newWorkerId(identity = ownIdentity()): string {
  const base = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  return identity ? `${base}@${identity.bootId}/${identity.pidNamespace}/${identity.startTicks}` : base;
}

/** The host and identity a worker id carries, if it is one of ours. */
export function parseWorkerId(workerId: string): { host: string; identity: ProcessIdentity } | undefined {
  const match = ID_PATTERN.exec(workerId);
  if (!match) return undefined;
  const [, host, pid, , bootId, pidNamespace, startTicks] = match;
  return {
    host: host!,
    identity: { bootId: bootId!, pidNamespace: pidNamespace!, pid: Number(pid), startTicks: startTicks! },
  };
}

/**
 * The start time of process `pid` in clock ticks after boot (field 22 of /proc/PID/stat), or undefined if there is
 * no such process or it has ended (a zombie, not yet reaped by its parent).
 */
export function startTicksOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // field 3, the state: dead
  return fields[19]; // field 22 overall
}

/**
 * Whether the worker `workerId` is certainly dead, as seen from this process (`own`, on host `host`): same host,
 * same boot, same pid namespace, and its pid is gone or belongs to a process started at another time. False when
 * it lives or when this process cannot tell.
 */
export function isCertainlyDead(
  workerId: string,
  own: ProcessIdentity | undefined,
  host = hostname(),
): boolean {
  if (!own) return false;
  const other = parseWorkerId(workerId);
  if (!other || other.host !== host) return false;
  const { identity } = other;
  if (identity.bootId !== own.bootId || identity.pidNamespace !== own.pidNamespace) return false;
  if (identity.pid === own.pid && identity.startTicks === own.startTicks) return false; // this process
  const ticks = startTicksOf(identity.pid);
  return ticks === undefined || ticks !== identity.startTicks;
}
