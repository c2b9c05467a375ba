/**
 * `npm run soak`: kjobs on PostgreSQL under sustained load for minutes, outside `npm test` (issue 19). One process
 * schedules jobs at a steady rate and runs them (no-op commands); finished jobs pile up (past a million rows with
 * --prefill), optionally while a transaction is held open for minutes (the dead-tuple spiral of PostgreSQL queues:
 * VACUUM cannot remove what that transaction might still see), optionally with --retention deleting finished jobs.
 * Every sample (claim time p50/p99, throughput, table size, dead tuples) goes to a CSV, and the run ends with SVG
 * plots and a summary, in --out. See docs/reliability.md.
 *
 *   npm run soak -- --duration 30m --rate 1000 --prefill 1000000 --hold 10m --hold-at 5m
 *   npm run soak -- --duration 20m --rate 1000 --retention 2m
 *
 * Options (durations as KIE time expressions: 90s, 5m, 1h):
 *   --url URL         PostgreSQL (default KJOBS_SOAK_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test)
 *   --duration D      how long to schedule and run jobs (default 10m)
 *   --rate N          jobs scheduled per second (default 1000)
 *   --concurrency N   jobs run at once (default 20)
 *   --prefill N       DONE jobs inserted before the run starts, as if finished earlier (default 0)
 *   --hold D          hold a transaction (REPEATABLE READ, with a snapshot) open this long (default 0: none)
 *   --hold-at D       ... starting this long into the run (default 1m)
 *   --retention D     delete finished jobs older than this, as `--retention` does (default 0: keep them)
 *   --retention-every D   how often retention sweeps (default 1m, as kjobs serve does)
 *   --vacuum-every D  VACUUM the jobs table this often, as autovacuum would where it is off (default 0: never)
 *   --sample D        time between samples (default 5s)
 *   --out DIR         where the CSV, the SVG plots and summary.json go (default bench/results/soak-<time>)
 *   --keep            leave the schema (default: dropped at the end)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { parseTimeExpression } from '../src/core/index.js';
import type { ClaimedJob } from '../src/core/index.js';
import pino from 'pino';
import { createKjobs } from '../src/kjobs.js';
import { RetentionSweeper } from '../src/executor/retention.js';
import type { ClaimOptions } from '../src/store/job-store.js';
import { PostgresJobStore } from '../src/store/postgres/postgres-store.js';
import { lineChart, type Series } from './soak-chart.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    duration: { type: 'string', default: '10m' },
    rate: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '20' },
    prefill: { type: 'string', default: '0' },
    hold: { type: 'string', default: '0' },
    'hold-at': { type: 'string', default: '1m' },
    retention: { type: 'string', default: '0' },
    'retention-every': { type: 'string', default: '1m' },
    'vacuum-every': { type: 'string', default: '0' },
    sample: { type: 'string', default: '5s' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const url = args.url ?? process.env.KJOBS_SOAK_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const durationMs = parseTimeExpression(args.duration);
const rate = Number(args.rate);
const prefill = Number(args.prefill);
const holdMs = parseTimeExpression(args.hold);
const holdAtMs = parseTimeExpression(args['hold-at']);
const retentionMs = parseTimeExpression(args.retention);
const sampleMs = parseTimeExpression(args.sample);
const out = args.out ?? join('bench', 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`);
const schema = `soak_${process.pid}_${Date.now().toString(36)}`;

/** The store, with each claim timed. */
class TimedStore extends PostgresJobStore {
  claimTimes: number[] = [];
  override async claim(options: ClaimOptions): Promise<ClaimedJob[]> {
    const start = performance.now();
    try {
      return await super.claim(options);
    } finally {
      this.claimTimes.push(performance.now() - start);
    }
  }
}

interface Sample {
  t: number; // seconds into the run
  scheduled: number;
  done: number;
  throughput: number; // jobs finished per second since the last sample
  claims: number;
  claimP50: number;
  claimP99: number;
  rows: number; // live rows of jobs (estimate)
  deadRows: number;
  tableMb: number; // jobs with its indexes
  holding: boolean;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const admin = new pg.Pool({ connectionString: url, max: 3 });
admin.on('error', () => undefined);
const store = new TimedStore({ connectionString: url, schema, poolSize: 8, applicationName: 'kjobs-soak' });
const kjobs = await createKjobs({
  store,
  commands: { 'soak.Noop': () => ({}) },
  executor: { concurrency: Number(args.concurrency) },
});
// Retention as `--retention` runs it, with the sweep interval as an option (kjobs serve sweeps once a minute).
const retention =
  retentionMs > 0
    ? new RetentionSweeper(store, {
        retentionMs,
        intervalMs: parseTimeExpression(args['retention-every']),
        logger: pino({ level: 'silent' }),
      })
    : undefined;
const jobs = `"${schema}".jobs`;
mkdirSync(out, { recursive: true });
console.log(
  `soak: schema ${schema}, ${args.duration} at ${rate} jobs/s, prefill ${prefill}, ` +
    `hold ${args.hold} at ${args['hold-at']}, retention ${args.retention}; results in ${out}`,
);

if (prefill > 0) {
  const started = Date.now();
  const now = Date.now();
  for (let done = 0; done < prefill; done += 100_000) {
    const n = Math.min(100_000, prefill - done);
    await admin.query(
      `INSERT INTO ${jobs} (status, command, message, priority, retries, executions, scheduled_at, request_data,
        response_data, created_at, started_at, finished_at)
      SELECT 'DONE', 'soak.Noop', 'Ready to execute', 5, 3, 1, $2::bigint - i, '{}', '{}', $2::bigint - i,
        $2::bigint - i, $2::bigint - i
      FROM generate_series(1, $1::integer) AS i`,
      [n, now - 3_600_000],
    );
  }
  await admin.query(`VACUUM ANALYZE ${jobs}`);
  console.log(`prefilled ${prefill} DONE jobs in ${Date.now() - started} ms`);
}

await kjobs.start();
retention?.start();
// Where autovacuum is off (this project's machine), VACUUM as it would: space freed by retention is then reused.
const vacuumEveryMs = parseTimeExpression(args['vacuum-every']);
let vacuuming = false;
const vacuumer =
  vacuumEveryMs > 0
    ? setInterval(() => {
        if (vacuuming) return;
        vacuuming = true;
        const started = Date.now();
        admin
          .query(`VACUUM ${jobs}`)
          .then(() => console.log(`vacuumed the jobs table in ${Date.now() - started} ms`))
          .catch((error: unknown) => console.error(error))
          .finally(() => (vacuuming = false));
      }, vacuumEveryMs)
    : undefined;
const samples: Sample[] = [];
const start = Date.now();
let scheduled = 0;
let lastDone = 0;
let lastSampleAt = start;
let holding = false;
let holdClient: pg.PoolClient | undefined;

async function sample(): Promise<void> {
  const [{ rows: stats }] = await Promise.all([
    admin.query<{ live: string; dead: string; bytes: string }>(
      `SELECT n_live_tup AS live, n_dead_tup AS dead, pg_total_relation_size(relid) AS bytes
      FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'jobs'`,
      [schema],
    ),
  ]);
  const now = Date.now();
  const done = finished;
  const claims = store.claimTimes.splice(0);
  const s: Sample = {
    t: Math.round((now - start) / 100) / 10,
    scheduled,
    done,
    throughput: Math.round(((done - lastDone) * 1000) / Math.max(1, now - lastSampleAt)),
    claims: claims.length,
    claimP50: Math.round(percentile(claims, 50) * 100) / 100,
    claimP99: Math.round(percentile(claims, 99) * 100) / 100,
    rows: Number(stats[0]?.live ?? 0),
    deadRows: Number(stats[0]?.dead ?? 0),
    tableMb: Math.round(Number(stats[0]?.bytes ?? 0) / 1024 / 10.24) / 100,
    holding,
  };
  lastDone = done;
  lastSampleAt = now;
  samples.push(s);
  console.log(
    `t=${s.t}s scheduled=${s.scheduled} done=${s.done} ${s.throughput}/s claim p50=${s.claimP50} ms ` +
      `p99=${s.claimP99} ms rows=${s.rows} dead=${s.deadRows} size=${s.tableMb} MB${holding ? ' [holding]' : ''}`,
  );
}

// Jobs this run finished (the prefilled ones aside; with retention, rows go, so they are counted as they finish).
let finished = 0;
kjobs.on('finished', () => finished++);

const sampler = setInterval(() => void sample().catch((error: unknown) => console.error(error)), sampleMs);

// The transaction held open: a snapshot taken, then nothing, for --hold.
if (holdMs > 0) {
  setTimeout(() => {
    void (async () => {
      holdClient = await admin.connect();
      await holdClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await holdClient.query(`SELECT count(*) FROM ${jobs} WHERE id < 10`);
      holding = true;
      console.log(`holding a transaction open for ${args.hold}`);
      setTimeout(() => {
        void holdClient!.query('COMMIT').finally(() => {
          holdClient!.release();
          holding = false;
          console.log('transaction released');
        });
      }, holdMs);
    })();
  }, holdAtMs);
}

// Steady scheduling: a batch every 100 ms.
const batch = Math.max(1, Math.round(rate / 10));
while (Date.now() - start < durationMs) {
  const tickStart = Date.now();
  await kjobs.scheduleMany(Array.from({ length: batch }, () => ({ command: 'soak.Noop' })));
  scheduled += batch;
  const wait = 100 - (Date.now() - tickStart);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
clearInterval(sampler);
clearInterval(vacuumer);
await retention?.stop();
if (holding) {
  await holdClient!.query('COMMIT');
  holdClient!.release();
}
await kjobs.stop(5000);
await store.close();

// The results: CSV, plots, summary.
const columns = Object.keys(samples[0] ?? {}) as (keyof Sample)[];
writeFileSync(
  join(out, 'samples.csv'),
  [columns.join(','), ...samples.map((s) => columns.map((c) => String(s[c])).join(','))].join('\n') + '\n',
);
const holdBand = holdMs > 0 ? ([holdAtMs / 1000, (holdAtMs + holdMs) / 1000] as [number, number]) : undefined;
const at = (pick: (s: Sample) => number): [number, number][] => samples.map((s) => [s.t, pick(s)]);
const charts: [string, string, Series[]][] = [
  [
    'claim-time.svg',
    'Claim time (ms)',
    [
      { name: 'p50', points: at((s) => s.claimP50) },
      { name: 'p99', points: at((s) => s.claimP99) },
    ],
  ],
  ['throughput.svg', 'Jobs finished per second', [{ name: 'jobs/s', points: at((s) => s.throughput) }]],
  ['table-size.svg', 'jobs table with indexes (MB)', [{ name: 'MB', points: at((s) => s.tableMb) }]],
  [
    'rows.svg',
    'Rows of jobs',
    [
      { name: 'live', points: at((s) => s.rows) },
      { name: 'dead', points: at((s) => s.deadRows) },
    ],
  ],
];
for (const [file, title, series] of charts) {
  writeFileSync(join(out, file), lineChart({ title, series, band: holdBand, bandLabel: 'transaction held' }));
}
const claimAll = samples.filter((s) => s.claims > 0);
const summary = {
  schema,
  options: args,
  samples: samples.length,
  scheduled,
  finished: samples.at(-1)?.done,
  claimP50: {
    first: claimAll[0]?.claimP50,
    last: claimAll.at(-1)?.claimP50,
    max: Math.max(...claimAll.map((s) => s.claimP50)),
  },
  claimP99: {
    first: claimAll[0]?.claimP99,
    last: claimAll.at(-1)?.claimP99,
    max: Math.max(...claimAll.map((s) => s.claimP99)),
  },
  tableMb: {
    first: samples[0]?.tableMb,
    last: samples.at(-1)?.tableMb,
    max: Math.max(...samples.map((s) => s.tableMb)),
  },
  rows: { first: samples[0]?.rows, last: samples.at(-1)?.rows },
};
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify(summary));
if (!args.keep) await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
await admin.end();
