/** Starts bench/http-server.ts as a child process and reads its peak RSS (VmHWM) before stopping it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../http-server.ts', import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Peak resident memory so far, MiB. */
  peakRssMiB(): number;
  /** CPU time (user + system) used so far, ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function startServer(
  mode: 'bare' | 'insert' | 'kjobs',
  store?: string,
  option?: 'coalesce' | 'executor',
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', SCRIPT, mode, ...(store ? [store] : []), ...(option ? [option] : [])],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) =>
      resolve((JSON.parse(line) as { port: number }).port),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    peakRssMiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
      return Math.round(kb / 1024);
    },
    cpuMs() {
      // Fields 14 and 15 of /proc/PID/stat (after the parenthesized name): utime and stime in clock ticks.
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
