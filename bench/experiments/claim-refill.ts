/**
 * Experiment behind the PostgreSQL processing finding of docs/benchmarks.md: 20,000 no-op jobs at concurrency
 * 10, for several `prefetch` sizes, with the executor as it is (`current`) and with a prototype that refills
 * its local queue only once it has run low, and then whole (`refill`: Graphile Worker's localQueue idea), so
 * that one claim round trip brings many jobs. Counts claims and completions and their batch sizes.
 *
 *   node --import tsx bench/experiments/claim-refill.ts            (PREFETCH=0,10,40,90,190  MODES=current,refill)
 *
 * The prototype (refill-pump.ts) replaces JobFetcher.prototype.fetchAndStart in this process only; it is not kjobs code.
 */
import { createKjobs } from '../../src/kjobs.js';
import { JobFetcher } from '../../src/executor/job-fetcher.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { dropSchema } from '../systems/postgres-admin.js';
import { POSTGRES_URL } from '../systems/system.js';
import { refillPump } from './refill-pump.js';

const JOBS = Number(process.env.JOBS ?? 20_000);
const SCHEMA = 'bench_refill';

const currentPump = (JobFetcher.prototype as unknown as { fetchAndStart: () => Promise<void> }).fetchAndStart;

for (const mode of (process.env.MODES ?? 'current,refill').split(',')) {
  (JobFetcher.prototype as unknown as { fetchAndStart: unknown }).fetchAndStart =
    mode === 'refill' ? refillPump : currentPump;
  for (const prefetch of (process.env.PREFETCH ?? '0,10,40,90,190').split(',').map(Number)) {
    await dropSchema(SCHEMA);
    const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema: SCHEMA });
    const calls = { claims: 0, claimed: 0, completes: 0 };
    const claim = store.claim.bind(store);
    store.claim = async (options) => {
      const jobs = await claim(options);
      calls.claims++;
      calls.claimed += jobs.length;
      return jobs;
    };
    const complete = store.complete.bind(store);
    store.complete = (outcomes) => {
      calls.completes++;
      return complete(outcomes);
    };
    let seen = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const kjobs = await createKjobs({
      store,
      executor: { concurrency: 10, prefetch },
      commands: { noop: () => void (++seen === JOBS && finish()) },
    });
    for (let i = 0; i < JOBS; i += 1000) {
      await kjobs.scheduleMany(Array.from({ length: Math.min(1000, JOBS - i) }, () => ({ command: 'noop' })));
    }
    const started = performance.now();
    await kjobs.start();
    await finished;
    const ms = performance.now() - started;
    console.log(
      `${mode.padEnd(7)} prefetch ${String(prefetch).padStart(3)}: ${Math.round((JOBS * 1000) / ms)} jobs/s; ` +
        `${calls.claims} claims (${(calls.claimed / calls.claims).toFixed(1)} jobs each), ` +
        `${calls.completes} completions (${(JOBS / calls.completes).toFixed(1)} each)`,
    );
    await kjobs.stop();
    await store.close();
  }
}
await dropSchema(SCHEMA);
