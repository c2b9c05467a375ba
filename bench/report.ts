/** Turns a results object of bench/run.ts into Markdown tables (printed, and pasted into docs/benchmarks.md). */
type Row = Record<string, unknown>;
type Figures = Record<string, Record<string, Row | string>>;

const fmt = (value: unknown, digits = 0): string =>
  typeof value === 'number' && Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
const num = (row: unknown, key: string): number | undefined => {
  const value = (row as Row | undefined)?.[key];
  return typeof value === 'number' ? value : undefined;
};
const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b ? `${fmt(a / b, 2)}x` : '–';

export function printTables(all: Record<string, unknown>): string {
  const out: string[] = [];
  const queue = (all.queue ?? {}) as Figures;
  const names = Object.keys(queue);
  if (names.length) {
    out.push('### Scheduling, processing, latency (one process, concurrency 10)\n');
    out.push(
      table(
        [
          'system',
          'bulk schedule jobs/s',
          'process jobs/s',
          'CPU ms / 1k jobs',
          'latency p50 ms',
          'p95 ms',
          'p99 ms',
        ],
        names.map((name) => {
          const q = queue[name]!;
          return [
            name + (q.error ? ` (failed: ${String(q.error).slice(0, 60)})` : ''),
            fmt(num(q.bulk, 'jobsPerSecond')),
            fmt(num(q.process, 'jobsPerSecond')) +
              ((q.process as Row | undefined)?.timedOut ? ' (timed out)' : ''),
            fmt(num(q.process, 'cpuMsPer1k')),
            fmt(num(q.latency, 'p50'), 2),
            fmt(num(q.latency, 'p95'), 2),
            fmt(num(q.latency, 'p99'), 2),
          ];
        }),
      ),
    );
    const kjobs = names.filter((n) => n.startsWith('kjobs'));
    const peers = names.filter((n) => !n.startsWith('kjobs'));
    if (kjobs.length && peers.length) {
      out.push(
        '\n### Ratios: kjobs ÷ peer (throughput: higher is better; latency p50: peer ÷ kjobs, higher is better)\n',
      );
      const rows: string[][] = [];
      for (const k of kjobs) {
        for (const p of peers) {
          rows.push([
            `${k} vs ${p}`,
            ratio(num(queue[k]!.bulk, 'jobsPerSecond'), num(queue[p]!.bulk, 'jobsPerSecond')),
            ratio(num(queue[k]!.process, 'jobsPerSecond'), num(queue[p]!.process, 'jobsPerSecond')),
            ratio(num(queue[p]!.latency, 'p50'), num(queue[k]!.latency, 'p50')),
          ]);
        }
      }
      out.push(table(['pair', 'bulk scheduling', 'processing', 'latency p50'], rows));
    }
  }
  const http = all.http as Record<string, Row> | undefined;
  if (http) {
    const comparison = (http.comparison ?? {}) as Record<string, Row>;
    const rate = (label: string) => num(comparison[label], 'requestsPerSecond');
    // Each target against its reference in the same run: the bare route for reads, the minimal insert on the
    // same database for scheduling.
    const referenceOf = (label: string): string | undefined =>
      label.startsWith('bare')
        ? undefined
        : label.includes('GET')
          ? 'bare GET'
          : label.startsWith('insert')
            ? 'bare POST'
            : `insert ${label.endsWith('PostgreSQL') ? 'PostgreSQL' : 'SQLite'}`;
    out.push('\n### HTTP as KIE clients use it (autocannon, 10 connections, median of interleaved rounds)\n');
    out.push(
      table(
        [
          'target',
          'req/s',
          'rounds',
          'reference',
          'ratio',
          'p50 ms',
          'p99 ms',
          'non-2xx',
          'server CPU %',
          'peak RSS MiB',
        ],
        Object.entries(comparison).map(([label, r]) => {
          const reference = referenceOf(label);
          return [
            label,
            fmt(num(r, 'requestsPerSecond')),
            ((r as { rounds?: number[] }).rounds ?? []).map((x) => fmt(x)).join(' / '),
            reference ?? '–',
            reference ? ratio(rate(label), rate(reference)) : '–',
            fmt(num(r, 'latencyP50'), 1),
            fmt(num(r, 'latencyP99'), 1),
            fmt(num(r, 'non2xx')),
            fmt(num(r, 'serverCpuPercent')),
            fmt(num(r, 'peakRssMiB')),
          ];
        }),
      ),
    );
    const batches = [
      ['kjobs POST /jobs/batch (100 jobs), PostgreSQL', http['kjobs-pg-batch']],
      ['kjobs POST /jobs/batch (100 jobs), SQLite', http['kjobs-sqlite-batch']],
    ].filter((r) => r[1]) as [string, Row][];
    if (batches.length) {
      out.push('\n### Batches over HTTP (kjobs extension)\n');
      out.push(
        table(
          ['route', 'req/s', 'jobs/s', 'p50 ms', 'p99 ms', 'server CPU %'],
          batches.map(([label, r]) => [
            label,
            fmt(num(r, 'requestsPerSecond')),
            fmt((num(r, 'requestsPerSecond') ?? NaN) * (num(r, 'jobsPerRequest') ?? NaN)),
            fmt(num(r, 'latencyP50'), 1),
            fmt(num(r, 'latencyP99'), 1),
            fmt(num(r, 'serverCpuPercent')),
          ]),
        ),
      );
    }
  }
  const lists = all.lists as
    | Record<
        string,
        { jobs: number; loadMs: number; loadJobsPerSecond: number; peakRssMiB: number; results: Row[] }
      >
    | undefined;
  if (lists && Object.keys(lists).length) {
    const backends = Object.keys(lists);
    const first = lists[backends[0]!]!;
    out.push(`\n### List queries over HTTP, ${fmt(first.jobs)} jobs stored, page size 10 (ms)\n`);
    out.push(
      table(
        ['query', 'matching rows', 'page', ...backends.flatMap((b) => [`${b} p50`, `${b} p99`])],
        first.results.map((row, i) => [
          String(row.query),
          fmt(num(row, 'rows')),
          fmt(num(row, 'page')),
          ...backends.flatMap((b) => {
            const r = lists[b]!.results[i];
            const p99 = num(r, 'p99');
            return [fmt(num(r, 'p50'), 2), `${fmt(p99, 2)}${p99 !== undefined && p99 > 10 ? ' ✗' : ''}`];
          }),
        ]),
      ),
    );
    out.push(
      '\n' +
        backends
          .map(
            (b) =>
              `${b}: loaded ${fmt(lists[b]!.jobs)} jobs in ${fmt(lists[b]!.loadMs / 1000, 1)} s (${fmt(lists[b]!.loadJobsPerSecond)} jobs/s); server peak RSS ${fmt(lists[b]!.peakRssMiB)} MiB`,
          )
          .join('\n\n'),
    );
  }
  const plans = all.listPlans as { query: string; offset: number; current: Row; proposed: Row }[] | undefined;
  if (plans?.length) {
    out.push(
      "\n### PostgreSQL deep pages: the store's statement vs a proposed shape (direct, prepared; ms)\n",
    );
    out.push(
      table(
        ['query', 'offset', 'plain OFFSET p50', 'p99', 'ids first p50', 'p99'],
        plans.map((p) => [
          p.query,
          fmt(p.offset),
          fmt(num(p.current, 'p50'), 2),
          fmt(num(p.current, 'p99'), 2),
          fmt(num(p.proposed, 'p50'), 2),
          fmt(num(p.proposed, 'p99'), 2),
        ]),
      ),
    );
  }
  out.push(scaling(all));
  out.push('\n' + targets(all));
  return out.join('\n');
}

/** The targets, each met or not, from this run. */
function targets(all: Record<string, unknown>): string {
  const queue = (all.queue ?? {}) as Figures;
  const v = (system: string, scenario: string, key: string) => num(queue[system]?.[scenario], key);
  const rows: [string, number | undefined, string, boolean | undefined][] = [];
  const check = (label: string, value: number | undefined, goal: string, ok: (x: number) => boolean) =>
    rows.push([label, value, goal, value === undefined || Number.isNaN(value) ? undefined : ok(value)]);
  const div = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
  check(
    'PG processing ÷ Graphile Worker',
    div(v('kjobs-pg', 'process', 'jobsPerSecond'), v('graphile', 'process', 'jobsPerSecond')),
    '>= 1.5',
    (x) => x >= 1.5,
  );
  check(
    'PG processing ÷ pg-boss',
    div(v('kjobs-pg', 'process', 'jobsPerSecond'), v('pg-boss', 'process', 'jobsPerSecond')),
    '>= 3',
    (x) => x >= 3,
  );
  check(
    'PG bulk scheduling ÷ Graphile Worker',
    div(v('kjobs-pg', 'bulk', 'jobsPerSecond'), v('graphile', 'bulk', 'jobsPerSecond')),
    '>= 1',
    (x) => x >= 1,
  );
  check('PG latency p50 ms', v('kjobs-pg', 'latency', 'p50'), '<= 5', (x) => x <= 5);
  check('PG latency p99 ms', v('kjobs-pg', 'latency', 'p99'), '<= 25', (x) => x <= 25);
  check('SQLite latency p50 ms', v('kjobs-sqlite', 'latency', 'p50'), '<= 2', (x) => x <= 2);
  check(
    'SQLite processing ÷ kjobs-pg',
    div(v('kjobs-sqlite', 'process', 'jobsPerSecond'), v('kjobs-pg', 'process', 'jobsPerSecond')),
    '>= 2',
    (x) => x >= 2,
  );
  const comparison = ((all.http as Record<string, Row> | undefined)?.comparison ?? {}) as Record<string, Row>;
  const rateOf = (label: string) => num(comparison[label], 'requestsPerSecond');
  for (const store of ['SQLite', 'PostgreSQL']) {
    if (!comparison[`kjobs POST ${store}`]) continue;
    check(
      `HTTP POST /jobs ÷ minimal insert (${store})`,
      div(rateOf(`kjobs POST ${store}`), rateOf(`insert ${store}`)),
      '>= 0.8',
      (x) => x >= 0.8,
    );
    check(
      `HTTP GET /jobs/{id} ÷ bare GET (${store})`,
      div(rateOf(`kjobs GET ${store}`), rateOf('bare GET')),
      '>= 0.8',
      (x) => x >= 0.8,
    );
    check(
      `HTTP POST /jobs with the executor on ÷ minimal insert (${store})`,
      div(rateOf(`kjobs POST+run ${store}`), rateOf(`insert ${store}`)),
      '>= 0.5',
      (x) => x >= 0.5,
    );
  }
  for (const [label, r] of Object.entries(comparison)) {
    if (label.startsWith('kjobs')) check(`p99 ms, ${label}`, num(r, 'latencyP99'), '<= 10', (x) => x <= 10);
  }
  const lists = all.lists as Record<string, { results: Row[] }> | undefined;
  for (const [backend, l] of Object.entries(lists ?? {})) {
    const worst = Math.max(...l.results.map((r) => num(r, 'p99') ?? 0));
    check(`worst list p99 ms (${backend})`, worst, '<= 10', (x) => x <= 10);
  }
  return (
    '### Targets\n\n' +
    table(
      ['target', 'this run', 'goal', 'met'],
      rows.map(([label, value, goal, ok]) => [
        label,
        fmt(value, 2),
        goal,
        ok === undefined ? '–' : ok ? 'yes' : '**no**',
      ]),
    )
  );
}

// `node --import tsx bench/report.ts bench/results/<run>.json` prints the tables of a stored run again.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!) && process.argv[2]) {
  const { readFileSync } = await import('node:fs');
  console.log(printTables(JSON.parse(readFileSync(process.argv[2], 'utf8')) as Record<string, unknown>));
}

/** Scenario `scaling`: `--workers` over HTTP, and worker processes on one PostgreSQL. */
function scaling(all: Record<string, unknown>): string {
  const found = all.scaling as
    | {
        http?: {
          store: string;
          workers: number;
          postRunRequestsPerSecond: number;
          getRequestsPerSecond: number;
          postRunRounds: number[];
          getRounds: number[];
          postP99: number;
          getP99: number;
        }[];
        nodes?: { processes: number; jobs: number; jobsPerSecond: number; duplicates: number }[];
      }
    | undefined;
  if (!found) return '';
  const out: string[] = [];
  if (found.http?.length) {
    out.push('\n### kjobs serve --workers N (CLI, executor on, median of interleaved rounds)\n');
    const one = (store: string) => found.http!.find((row) => row.store === store && row.workers === 1);
    out.push(
      table(
        [
          'store',
          'workers',
          'POST+run req/s',
          'rounds',
          'vs 1',
          'p99 ms',
          'GET req/s',
          'rounds',
          'vs 1',
          'p99 ms',
        ],
        found.http.map((row) => {
          const base = one(row.store);
          const ratio = (value: number, of: number | undefined) => (of ? `${(value / of).toFixed(2)}x` : '–');
          return [
            row.store,
            String(row.workers),
            fmt(row.postRunRequestsPerSecond),
            row.postRunRounds.map((value) => fmt(value)).join(' / '),
            ratio(row.postRunRequestsPerSecond, base?.postRunRequestsPerSecond),
            fmt(row.postP99),
            fmt(row.getRequestsPerSecond),
            row.getRounds.map((value) => fmt(value)).join(' / '),
            ratio(row.getRequestsPerSecond, base?.getRequestsPerSecond),
            fmt(row.getP99),
          ];
        }),
      ),
    );
  }
  if (found.nodes?.length) {
    out.push('\n### kjobs worker processes on one PostgreSQL (no-op jobs, concurrency 10 each)\n');
    out.push(
      table(
        ['processes', 'jobs', 'jobs/s', 'ran twice'],
        found.nodes.map((row) => [
          String(row.processes),
          fmt(row.jobs),
          fmt(row.jobsPerSecond),
          String(row.duplicates),
        ]),
      ),
    );
  }
  return out.join('\n');
}
