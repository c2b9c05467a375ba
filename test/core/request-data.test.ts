// The table of request-data keys (src/core/request-data.ts) is the one place a key lives: each is checked by its own
// rule when scheduling and updating, the OpenAPI document and docs/library.md list every one, update-data cannot change
// the keys fixed at scheduling, and a recurring job's next occurrence is read by the same rules (keeping `unique` and
// its trace context). A key added to the table and forgotten elsewhere fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  buildNewJob,
  MESSAGE_REOCCURRING,
  nextOccurrenceOf,
  normalizeRequestData,
  REQUEST_DATA_KEYS,
  ValidationError,
} from '../../src/core/index.js';
import { COMPONENT_SCHEMAS } from '../../src/http/openapi/schemas.js';

/** A value each key refuses, written out (not derived from the table it checks). */
const REFUSED: Record<string, unknown> = {
  businessKey: 7,
  retries: 'many',
  retryDelay: 'soon',
  priority: 'high',
  processInstanceId: 1.5,
  owner: { name: 'x' },
  deploymentId: 'd'.repeat(256),
  DeploymentId: 3,
  callbacks: ['a', 'b'],
  timeout: -5,
  cron: 'every day',
  timezone: 'Mars/Olympus',
  unique: 'perhaps',
  debounce: '5s', // without unique "debounce"
  concurrencyKey: true,
  dependsOn: { id: 1 },
  onParentFailure: 'ignore',
};

describe('request-data keys', () => {
  it('each key refuses a wrong value with a ValidationError naming it', () => {
    assert.deepEqual(
      Object.keys(REFUSED).sort(),
      REQUEST_DATA_KEYS.map((entry) => entry.key).sort(),
      'every key of the table has a refused value here',
    );
    for (const [key, value] of Object.entries(REFUSED)) {
      const data: Record<string, unknown> = { [key]: value };
      if (key === 'timezone') data.cron = '* * * * *';
      assert.throws(
        () => normalizeRequestData(data),
        (error: unknown) => error instanceof ValidationError && error.message.includes(key),
        `${key}: ${JSON.stringify(value)}`,
      );
    }
  });

  it('stores values as the executor reads them; update-data cannot change what is fixed at scheduling', () => {
    assert.deepEqual(normalizeRequestData({ retryDelay: '10s, 1m', concurrencyKey: 'tenant-1', mine: 1 }), {
      retryDelay: [10_000, 60_000],
      concurrencyKey: 'tenant-1',
      mine: 1,
    });
    for (const key of ['dependsOn', 'onParentFailure']) {
      assert.throws(
        () => normalizeRequestData({ [key]: key === 'dependsOn' ? [1] : 'run' }, { update: true }),
        new RegExp(`${key} is fixed when a job is scheduled`),
      );
    }
    assert.deepEqual(normalizeRequestData({ retries: 2 }, { update: true }), { retries: 2 });
  });

  it('the OpenAPI document and docs/library.md list every key', () => {
    const keys = REQUEST_DATA_KEYS.map((entry) => entry.key).sort();
    const schema = COMPONENT_SCHEMAS.RequestData as { properties: Record<string, { description: string }> };
    assert.deepEqual(Object.keys(schema.properties).sort(), keys);
    for (const entry of REQUEST_DATA_KEYS) {
      assert.match(
        schema.properties[entry.key]!.description,
        entry.origin === 'KIE' ? /^KIE's/ : /^kjobs extension/,
      );
    }
    const library = readFileSync(new URL('../../docs/library.md', import.meta.url), 'utf8');
    const section = library.slice(library.indexOf('## What the request data steers'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| key |')));
    const documented = table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Za-z]+)`/g)].map((match) => match[1]!));
    assert.deepEqual(
      [...new Set(documented)].sort(),
      keys,
      "docs/library.md's table has each key, and no other",
    );
  });

  it("a recurring job's next occurrence is read by the same rules: unique, priority, retries, trace context", () => {
    const now = Date.UTC(2026, 11, 7, 12);
    const first = buildNewJob(
      {
        command: 'com.acme.Report',
        containerId: 'acme',
        data: { businessKey: 'daily', unique: true, cron: '0 7 * * *', retries: '2', priority: 8 },
      },
      { retries: 3, now },
    );
    const next = nextOccurrenceOf(
      { ...first, traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      now + 86_400_000,
      { retries: 3, now: now + 60_000 },
    );
    assert.equal(next.unique, true, 'still unique');
    assert.equal(next.traceParent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(next.message, MESSAGE_REOCCURRING);
    assert.equal(next.scheduledAt, now + 86_400_000, 'due at the occurrence');
    assert.equal(next.retries, 2, "the data's retries, read as when scheduling");
    assert.equal(next.priority, 8);
    assert.equal(next.containerId, 'acme');
    assert.equal(next.businessKey, 'daily');
  });
});
