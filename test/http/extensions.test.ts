// kjobs' extensions over HTTP, on SQLite and on PostgreSQL: cron schedules, unique jobs, batch scheduling.
// (Concurrency limits from configuration: test/cli/limits.test.ts.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../../src/http/server.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import type { JobStore } from '../../src/store/job-store.js';
import { eventually, tempFolder } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP } from '../store/postgres-helpers.js';
import { API, FAR_FUTURE, JSON_HEADERS, NS, PRINT_OUT, XML_HEADERS } from './helpers.js';

const TICK = 'com.acme.Tick';
const folder = tempFolder('kjobs-ext-');
let files = 0;

const STORES: [string, () => Promise<JobStore | string>, string | false][] = [
  ['SQLite', async () => join(folder, `ext-${files++}.db`), false],
  ['PostgreSQL', () => openTestStore(), POSTGRES_SKIP],
];

interface Answer {
  status: number;
  type: string | null;
  text: string;
}

for (const [storeName, openStore, skip] of STORES) {
  describe(`extensions over HTTP (${storeName})`, { skip }, () => {
    let kjobs: Kjobs;
    let app: FastifyInstance;
    let origin: string;
    let ticks = 0;
    let store: JobStore | string;

    before(async () => {
      store = await openStore();
      kjobs = await createKjobs({
        store,
        commands: { [TICK]: () => void ticks++ },
        containers: { acme: { 'com.acme.Greet': () => ({}) } },
        executor: { pollIntervalMs: 100 },
      });
      await kjobs.start();
      app = await createServer(kjobs, { bodyLimit: 64 * 1024 });
      origin = await app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await app.close();
      await kjobs.stop(100);
      if (typeof store === 'object') await store.close();
    });

    async function call(
      method: string,
      path: string,
      options: { accept?: string; contentType?: string; body?: string } = JSON_HEADERS,
    ): Promise<Answer> {
      const headers: Record<string, string> = {};
      if (options.accept) headers.accept = options.accept;
      if (options.contentType) headers['content-type'] = options.contentType;
      const response = await fetch(origin + API + path, {
        method,
        headers,
        ...(options.body !== undefined ? { body: options.body } : {}),
      });
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        text: await response.text(),
      };
    }
    const post = (path: string, body: unknown) =>
      call('POST', path, { ...JSON_HEADERS, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const request = (data: Record<string, unknown>, command = PRINT_OUT, at: number | null = FAR_FUTURE) => ({
      'job-command': command,
      'scheduled-date': at === null ? null : { 'java.util.Date': at },
      'request-data': data,
    });
    const byKey = async (key: string, status = '') =>
      JSON.parse((await call('GET', `/jobs/keys/${key}?pageSize=100${status}`)).text)[
        'request-info-instance'
      ] as {
        'request-instance-id': number;
        'request-status': string;
        'request-message': string;
      }[];
    const countAll = async () => {
      const counts = await kjobs.countByStatus();
      return Object.values(counts).reduce((sum: number, n) => sum + (n as number), 0);
    };

    describe('cron schedules', () => {
      it('a job with cron in its request data runs at each occurrence until its pending one is cancelled', async () => {
        ticks = 0;
        const answer = await post(
          '/jobs',
          request({ cron: '* * * * * *', businessKey: 'cron-http' }, TICK, null),
        );
        assert.equal(answer.status, 201, answer.text);
        const first = Number(answer.text);
        await eventually(
          () => byKey('cron-http', '&status=DONE'),
          (jobs) => jobs.length >= 2,
          6000,
        );
        const pending = await eventually(
          () => byKey('cron-http', '&status=QUEUED'),
          (jobs) => jobs.length === 1,
        );
        const next = pending[0]!;
        assert.ok(next['request-instance-id'] > first);
        assert.equal(next['request-message'], 'Rescheduled reoccurring job');
        const job = JSON.parse(
          (await call('GET', `/jobs/${next['request-instance-id']}?withData=true`)).text,
        );
        assert.equal(job['request-data'].cron, '* * * * * *', 'the occurrence keeps its cron');
        assert.equal(job['request-scheduled-date']['java.util.Date'] % 1000, 0, 'due at a whole second');

        // Stopping it: cancel the pending occurrence (retrying while a run reschedules the next one).
        await eventually(
          async () => {
            for (const queued of await byKey('cron-http', '&status=QUEUED')) {
              await call('DELETE', `/jobs/${queued['request-instance-id']}`);
            }
            return byKey('cron-http', '&status=QUEUED&status=RUNNING&status=RETRYING');
          },
          (active) => active.length === 0,
        );
        const settled = ticks;
        await new Promise((resolve) => setTimeout(resolve, 1300));
        assert.equal(ticks, settled, 'nothing runs after the pending occurrence was cancelled');
        assert.deepEqual(await byKey('cron-http', '&status=QUEUED'), []);
      });

      it('a unique cron job keeps its key through its occurrences: a second one is refused, naming the pending one', async () => {
        const first = await post(
          '/jobs',
          request({ cron: '* * * * * *', businessKey: 'cron-u', unique: true }, TICK, null),
        );
        assert.equal(first.status, 201, first.text);
        await eventually(
          () => byKey('cron-u', '&status=DONE'),
          (jobs) => jobs.length >= 1,
          5000,
        );
        const again = await post(
          '/jobs',
          request({ cron: '* * * * * *', businessKey: 'cron-u', unique: true }, TICK, null),
        );
        assert.equal(again.status, 409);
        // It names the occurrence that was QUEUED or RUNNING at that moment (it may have run since).
        const named = Number(/job (\d+)"$/.exec(again.text)?.[1]);
        assert.ok(
          (await byKey('cron-u')).some((job) => job['request-instance-id'] === named),
          `${again.text} names an occurrence`,
        );
        await eventually(
          async () => {
            for (const queued of await byKey('cron-u', '&status=QUEUED')) {
              await call('DELETE', `/jobs/${queued['request-instance-id']}`);
            }
            return byKey('cron-u', '&status=QUEUED&status=RUNNING&status=RETRYING');
          },
          (jobs) => jobs.length === 0,
        );
      });

      it('refuses a bad cron expression or time zone with 400', async () => {
        for (const data of [{ cron: 'every minute' }, { cron: '* * * * *', timezone: 'Mars/Olympus' }]) {
          const answer = await post('/jobs', request(data));
          assert.equal(answer.status, 400, answer.text);
          assert.match(answer.text, /cron|time ?zone/i);
        }
      });
    });

    describe('unique jobs', () => {
      it('refuses a second unique job with the same business key with 409 naming the existing job', async () => {
        const first = await post('/jobs', request({ businessKey: 'order-7', unique: true }));
        assert.equal(first.status, 201, first.text);
        const id = Number(first.text);
        const second = await post('/jobs', request({ businessKey: 'order-7', unique: true }));
        assert.equal(second.status, 409);
        assert.equal(second.type, 'text/plain; charset=utf-8');
        assert.equal(
          second.text,
          `"A job with business key \\"order-7\\" is already active: job ${id}"`.replace(/\\"/g, '"'),
        );
        // In XML too, with the XML form of unique (a boolean).
        const xml = await call('POST', '/jobs', {
          ...XML_HEADERS,
          body: `<job-request-instance><job-command>${PRINT_OUT}</job-command><request-data>
            <entry><key>businessKey</key><value xsi:type="xs:string" ${NS}>order-7</value></entry>
            <entry><key>unique</key><value xsi:type="xs:boolean" ${NS}>true</value></entry>
          </request-data></job-request-instance>`,
        });
        assert.equal(xml.status, 409);
        assert.match(xml.text, new RegExp(`job ${id}"$`));
        // A job without unique is not refused (KIE has no uniqueness), but it counts as active for unique ones.
        const plain = await post('/jobs', request({ businessKey: 'order-7' }));
        assert.equal(plain.status, 201);
        assert.equal((await call('DELETE', `/jobs/${id}`)).status, 204);
        const third = await post('/jobs', request({ businessKey: 'order-7', unique: true }));
        assert.equal(third.status, 409);
        assert.match(third.text, new RegExp(`job ${plain.text}"$`));
        // Once no job with the key is active, a unique one is accepted again.
        assert.equal((await call('DELETE', `/jobs/${plain.text}`)).status, 204);
        assert.equal((await post('/jobs', request({ businessKey: 'order-7', unique: true }))).status, 201);
      });

      it('lets exactly one of many concurrent unique requests through', async () => {
        const answers = await Promise.all(
          Array.from({ length: 12 }, () => post('/jobs', request({ businessKey: 'race-1', unique: true }))),
        );
        const created = answers.filter((answer) => answer.status === 201);
        assert.equal(
          created.length,
          1,
          answers.map((answer) => `${answer.status} ${answer.text}`).join('\n'),
        );
        for (const answer of answers.filter((a) => a.status !== 201)) {
          assert.equal(answer.status, 409);
          assert.match(answer.text, new RegExp(`job ${created[0]!.text}"$`));
        }
        assert.equal((await byKey('race-1')).length, 1);
      });

      it('refuses unique without a business key with 400', async () => {
        const answer = await post('/jobs', request({ unique: true }));
        assert.equal(answer.status, 400);
        assert.match(answer.text, /unique jobs need a businessKey/);
      });
    });

    describe('batch scheduling', () => {
      it('schedules an array of job requests and answers their ids in order (JSON)', async () => {
        const answer = await post('/jobs/batch', [
          request({ businessKey: 'batch-a' }),
          request({ businessKey: 'batch-a', retries: 1 }),
          request({ businessKey: 'batch-a' }, TICK, FAR_FUTURE + 1),
        ]);
        assert.equal(answer.status, 201, answer.text);
        assert.equal(answer.type, 'application/json; charset=utf-8');
        const ids = JSON.parse(answer.text) as number[];
        assert.equal(ids.length, 3);
        assert.deepEqual(
          (await byKey('batch-a')).map((job) => job['request-instance-id']),
          ids,
        );
        assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!);
      });

      it('accepts {"job-request-instance": [...]} and applies ?containerId to every job', async () => {
        const answer = await call('POST', '/jobs/batch?containerId=acme', {
          ...JSON_HEADERS,
          body: JSON.stringify({
            'job-request-instance': [
              request({ businessKey: 'batch-c' }, 'com.acme.Greet'),
              request({ businessKey: 'batch-c' }, 'com.acme.Greet'),
            ],
          }),
        });
        assert.equal(answer.status, 201, answer.text);
        for (const id of JSON.parse(answer.text) as number[]) {
          const job = JSON.parse((await call('GET', `/jobs/${id}?withData=true`)).text);
          assert.equal(job['request-container-id'], 'acme');
          assert.equal(job['request-data'].deploymentId, 'acme');
        }
      });

      it("speaks XML: <job-request-instance-list> in, KIE's JaxbList of longs out", async () => {
        const item = (key: string) =>
          `<job-request-instance><job-command>${PRINT_OUT}</job-command>` +
          `<scheduled-date>2100-01-01T00:00:00.000Z</scheduled-date><request-data>` +
          `<entry><key>businessKey</key><value xsi:type="xs:string" ${NS}>${key}</value></entry>` +
          `</request-data></job-request-instance>`;
        const answer = await call('POST', '/jobs/batch', {
          ...XML_HEADERS,
          body: `<job-request-instance-list>${item('batch-x')}<!-- a comment -->${item('batch-x')}</job-request-instance-list>`,
        });
        assert.equal(answer.status, 201, answer.text);
        assert.equal(answer.type, 'application/xml');
        const ids = (await byKey('batch-x')).map((job) => job['request-instance-id']);
        assert.equal(ids.length, 2);
        const typed = (id: number) =>
          `        <items xsi:type="xs:long" xmlns:xs="http://www.w3.org/2001/XMLSchema" ` +
          `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${id}</items>\n`;
        assert.equal(
          answer.text,
          '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<list-type>\n    <items>\n' +
            ids.map(typed).join('') +
            '    </items>\n</list-type>\n',
        );
      });

      it('schedules all or none: a bad item is refused with 400 naming its index, and nothing is scheduled', async () => {
        const before = await countAll();
        const cases: [unknown, RegExp][] = [
          [[request({}), { 'request-data': {} }], /^"Job request 1: job-command is required/],
          [[request({}), request({}), request({ retries: 'many' })], /^"Job request 2: .*retries/],
          [
            [request({}), request({}, 'com.acme.Nope')],
            /^"Job request 1: Invalid command type com\.acme\.Nope/,
          ],
          [[request({ cron: 'nope' })], /^"Job request 0: .*cron/],
          [[request({}), 'not an object'], /^"Job request 1: The body must be a JSON object/],
          [{ jobs: [] }, /JSON array of JobRequestInstance/],
          [
            [
              request({ businessKey: 'twice', unique: true }),
              request({ businessKey: 'twice', unique: true }),
            ],
            /Two unique jobs with business key "twice" in one batch/,
          ],
        ];
        for (const [body, message] of cases) {
          const answer = await post('/jobs/batch', body);
          assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
          assert.match(answer.text, message);
        }
        const xml = await call('POST', '/jobs/batch', {
          ...XML_HEADERS,
          body: `<job-request-instance-list><job-request-instance><job-command>${PRINT_OUT}</job-command></job-request-instance><job-request-instance/></job-request-instance-list>`,
        });
        assert.equal(xml.status, 400);
        assert.match(xml.text, /^"Job request 1: job-command is required/);
        const wrongRoot = await call('POST', '/jobs/batch', {
          ...XML_HEADERS,
          body: '<job-request-instance/>',
        });
        assert.equal(wrongRoot.status, 400);
        assert.match(wrongRoot.text, /job-request-instance-list/);
        assert.equal(await countAll(), before, 'no job of a refused batch was scheduled');
      });

      it('refuses the whole batch with 409 when one unique job conflicts, naming the existing job', async () => {
        const existing = Number(
          (await post('/jobs', request({ businessKey: 'b-unique', unique: true }))).text,
        );
        const before = await countAll();
        const answer = await post('/jobs/batch', [
          request({ businessKey: 'b-other' }),
          request({ businessKey: 'b-unique', unique: true }),
        ]);
        assert.equal(answer.status, 409);
        assert.match(answer.text, new RegExp(`job ${existing}"$`));
        assert.equal(await countAll(), before);
        assert.deepEqual(await byKey('b-other'), []);
      });

      it('answers an empty batch with an empty list, and applies the body limit (413)', async () => {
        const empty = await post('/jobs/batch', []);
        assert.equal(empty.status, 201);
        assert.deepEqual(JSON.parse(empty.text), []);
        const big = await post(
          '/jobs/batch',
          Array.from({ length: 2000 }, () => request({ businessKey: 'big' })),
        );
        assert.equal(big.status, 413);
        assert.deepEqual(await byKey('big'), []);
      });

      it('runs the jobs of a batch', async () => {
        const answer = await post('/jobs/batch', [request({}, TICK, null), request({}, TICK, null)]);
        const ids = JSON.parse(answer.text) as number[];
        for (const id of ids) {
          const job = await eventually(
            async () => JSON.parse((await call('GET', `/jobs/${id}`)).text),
            (job) => job['request-status'] === 'DONE',
          );
          assert.equal(job['request-executions'], 1);
        }
      });
    });
  });
}
