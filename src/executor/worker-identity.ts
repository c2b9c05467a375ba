/**
 * A worker id that proves, on its own host, whether its process still lives: `node:pid:random@boot/ns/start`, with
 * the node's name (the host name unless the operator names the node: --node-id), the kernel's boot id, the inode of
 * the process's pid namespace and the process's start time (clock ticks after boot, /proc/PID/stat). A worker
 * reading another worker's id from the same boot and pid namespace can tell for sure that the process is gone (no
 * such pid, or a pid now used by a process started at another time), and rescue its jobs at once instead of waiting
 * for its leases to run out.
 *
 * What /proc cannot tell (a restarted container has a pid namespace of its own) the worker locks of the store can
 * (JobStore.holdWorkerLock): a starting worker asks about the earlier workers of its own node whether their lock
 * is free. So a node that keeps its name across restarts (its host name, or --node-id) rescues what its previous
 * run held at once. Anything else (other nodes, ids given by the user) is left to the leases.
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

/** What a node id may hold: a host name, a pod name, a name an operator picks. */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Checks a node id given by the operator (--node-id); answers it. */
export function checkNodeId(nodeId: string): string {
  if (!NODE_ID.test(nodeId)) {
    throw new RangeError(
      `node id ${JSON.stringify(nodeId)}: use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return nodeId;
}

/**
 * A new worker id for this process: node (default: the host name), pid and a random part, then the identity when
 * /proc gives one.
 */
export function newWorkerId(identity = ownIdentity(), node = hostname()): string {
  const base = `${node}:${process.pid}:${randomUUID().slice(0, 8)}`;
  return identity ? `${base}@${identity.bootId}/${identity.pidNamespace}/${identity.startTicks}` : base;
}

/** The node a worker id names (its first part), if it is one of ours; undefined for ids given by the user. */
export function nodeOf(workerId: string): string | undefined {
  return NODE_PATTERN.exec(workerId)?.[1];
}

/** `node:pid:random`, with or without the identity /proc gives. */
const NODE_PATTERN = /^([^:@/]+):\d+:[0-9a-f]{8}(?:@[0-9a-f]{32}\/\d+\/\d+)?$/;

/** The node and identity a worker id carries, if it is one of ours. */
export function parseWorkerId(workerId: string): { node: string; identity: ProcessIdentity } | undefined {
  const match = ID_PATTERN.exec(workerId);
  if (!match) return undefined;
  const [, node, pid, , bootId, pidNamespace, startTicks] = match;
  return {
    node: node!,
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
 * Whether the worker `workerId` is certainly dead, as seen from this process (`own`): same boot (the boot id is
 * random per boot of a kernel, so it names the host too), same pid namespace, and its pid is gone or belongs to a
 * process started at another time. False when it lives or when this process cannot tell.
 */
export function isCertainlyDead(workerId: string, own: ProcessIdentity | undefined): boolean {
  if (!own) return false;
  const other = parseWorkerId(workerId);
  if (!other) return false;
  const { identity } = other;
  if (identity.bootId !== own.bootId || identity.pidNamespace !== own.pidNamespace) return false;
  if (identity.pid === own.pid && identity.startTicks === own.startTicks) return false; // this process
  const ticks = startTicksOf(identity.pid);
  return ticks === undefined || ticks !== identity.startTicks;
}
