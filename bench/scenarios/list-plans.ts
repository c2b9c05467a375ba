/**
 * Deep-page list statements on PostgreSQL, on the same loaded table, straight through pg with named (prepared)
 * statements as the store runs them; ms per query. `current` is the plain OFFSET statement the store ran until
 * commit 746f623; `proposed` is the shape measured here first, which the store has used since.
 *
 * current:  SELECT <summary> FROM jobs WHERE col = $3 AND status = ANY ($4) ORDER BY id LIMIT $1 OFFSET $2
 * proposed: the page's ids first, from the (col, [status,] id) index alone (an index-only scan: no heap visit
 *           for the skipped rows), statuses as `status IN ($4, ...)` so the planner can use that index, then
 *           the summary of those 10 rows:
 *           SELECT <summary> FROM jobs WHERE id IN (SELECT id FROM jobs WHERE ... ORDER BY id LIMIT $1 OFFSET $2)
 *           ORDER BY id
 */
import pg from 'pg';
import { POSTGRES_URL } from '../systems/system.js';
import { summarize } from '../stats.js';

const SUMMARY = `id, status, command, business_key, container_id, process_instance_id, owner, message,
  priority, retries, executions, scheduled_at, created_at, started_at, finished_at, worker_id, lease_expires_at`;

interface PlanCase {
  name: string;
  column: string | null;
  value?: string;
  statuses: string[];
  order: 'ASC' | 'DESC';
  offset: number;
}

export const PLAN_CASES: PlanCase[] = [
  { name: 'status QUEUED', column: null, statuses: ['QUEUED'], order: 'DESC', offset: 50_000 },
  { name: 'status DONE', column: null, statuses: ['DONE'], order: 'DESC', offset: 50_000 },
  { name: 'command', column: 'command', value: 'cmd-3', statuses: [], order: 'ASC', offset: 50_000 },
  {
    name: 'container QUEUED',
    column: 'container_id',
    value: 'container-7',
    statuses: ['QUEUED'],
    order: 'ASC',
    offset: 2_170,
  },
  {
    name: 'container DONE',
    column: 'container_id',
    value: 'container-7',
    statuses: ['DONE'],
    order: 'ASC',
    offset: 17_390,
  },
];

function statements(schema: string, c: PlanCase, k: number) {
  const jobs = `"${schema}".jobs`;
  const currentWhere: string[] = [];
  const proposedWhere: string[] = [];
  const values: unknown[] = [10, c.offset];
  if (c.column) {
    currentWhere.push(`${c.column} = $3`);
    proposedWhere.push(`${c.column} = $3`);
    values.push(c.value);
  }
  const currentValues = [...values];
  const proposedValues = [...values];
  if (c.statuses.length) {
    currentWhere.push(`status = ANY ($${values.length + 1}::text[])`);
    currentValues.push(c.statuses);
    proposedWhere.push(`status IN (${c.statuses.map((_, i) => `$${values.length + 1 + i}`).join(', ')})`);
    proposedValues.push(...c.statuses);
  }
  const where = (w: string[]) => (w.length ? `WHERE ${w.join(' AND ')}` : '');
  return {
    current: {
      name: `plan_current_${k}`,
      text: `SELECT ${SUMMARY} FROM ${jobs} ${where(currentWhere)} ORDER BY id ${c.order} LIMIT $1 OFFSET $2`,
      values: currentValues,
    },
    proposed: {
      name: `plan_proposed_${k}`,
      text: `SELECT ${SUMMARY} FROM ${jobs} WHERE id IN (SELECT id FROM ${jobs} ${where(proposedWhere)}
        ORDER BY id ${c.order} LIMIT $1 OFFSET $2) ORDER BY id ${c.order}`,
      values: proposedValues,
    },
  };
}

/** `total`: jobs loaded; the offsets above are the deep pages of 1,000,000 jobs, scaled to other sizes. */
export async function comparePlans(schema: string, total: number, repeats: number) {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  const rows = [];
  try {
    for (const [k, c] of PLAN_CASES.entries()) {
      const offset = Math.min(c.offset, Math.round((c.offset * total) / 1_000_000 / 10) * 10);
      const { current, proposed } = statements(schema, { ...c, offset }, k);
      const measured: Record<string, ReturnType<typeof summarize>> = {};
      let ids: Record<string, string> = {};
      for (const [label, statement] of [
        ['current', current],
        ['proposed', proposed],
      ] as const) {
        const samples: number[] = [];
        for (let r = 0; r < repeats + 6; r++) {
          const t = performance.now();
          const result = await client.query<{ id: string }>(statement);
          if (r >= 6) samples.push(performance.now() - t); // past the switch to a generic plan
          if (r === 0) ids = { ...ids, [label]: result.rows.map((row) => row.id).join(',') };
        }
        measured[label] = summarize(samples);
      }
      if (ids.current !== ids.proposed)
        throw new Error(`${c.name}: the proposed statement answers other rows`);
      rows.push({ query: c.name, offset, current: measured.current!, proposed: measured.proposed! });
    }
  } finally {
    await client.end();
  }
  return rows;
}
