// Large pages (issue 19): a page of 10,000 jobs is read and written in chunks, the event loop let go in between,
// so that other requests (/healthz) are answered meanwhile; the document is the same as written at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toRequestInfoInstance } from '../../src/http/formats/model.js';
import { writeRequestInfoListJson, writeRequestInfoListJsonInChunks } from '../../src/http/formats/json.js';
import { writeRequestInfoListXml, writeRequestInfoListXmlInChunks } from '../../src/http/formats/xml.js';
import { API, startServer } from './helpers.js';

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('large pages', () => {
  it('the chunked writers write the same documents, JSON (every option) and XML', async () => {
    const server = await startServer();
    await server.kjobs.scheduleMany(
      Array.from({ length: 530 }, (_, n) => ({
        command: 'org.jbpm.executor.commands.PrintOutCommand',
        data: { businessKey: n % 3 ? `key-${n}` : undefined, text: 'a "quoted" <value> & more', n },
      })),
    );
    const jobs = await server.kjobs.listByStatus({ pageSize: 1000 });
    for (const size of [0, 1, 99, 100, 101, 250, 530]) {
      const list = jobs.slice(0, size).map((job) => toRequestInfoInstance(job));
      for (const options of [
        { jsonDates: 'kie', omitNulls: false, strict: false },
        { jsonDates: 'iso', omitNulls: true, strict: false },
      ] as const) {
        assert.equal(
          await writeRequestInfoListJsonInChunks(list, options, pause),
          writeRequestInfoListJson(list, options),
          `JSON, ${size} jobs, ${JSON.stringify(options)}`,
        );
      }
      assert.equal(
        await writeRequestInfoListXmlInChunks(list, pause),
        writeRequestInfoListXml(list),
        `XML, ${size}`,
      );
    }
  });

  it('a page of 10,000 jobs (SQLite) is the same page, read in chunks', async () => {
    const server = await startServer();
    for (let i = 0; i < 12_000; i += 2000) {
      await server.kjobs.scheduleMany(
        Array.from({ length: 2000 }, () => ({ command: 'org.jbpm.executor.commands.PrintOutCommand' })),
      );
    }
    const page = await server.kjobs.listByStatus({ page: 1, pageSize: 5000 });
    assert.deepEqual(
      page.map((job) => job.id),
      Array.from({ length: 5000 }, (_, n) => 7000 - n),
      'newest first, from the 5,001st',
    );
    const all = await server.kjobs.store.list({
      filter: { by: 'status' },
      statuses: ['QUEUED'],
      order: 'asc',
      offset: 10,
      limit: 10_000,
    });
    assert.deepEqual(
      all.map((job) => job.id),
      Array.from({ length: 10_000 }, (_, n) => 11 + n),
    );
  });

  it('/healthz is answered while a page of 10,000 jobs is being written', async () => {
    const server = await startServer();
    for (let i = 0; i < 10_000; i += 2000) {
      await server.kjobs.scheduleMany(
        Array.from({ length: 2000 }, () => ({
          command: 'org.jbpm.executor.commands.PrintOutCommand',
          data: { note: 'x'.repeat(100) },
        })),
      );
    }
    for (const accept of ['application/json', 'application/xml']) {
      // Asked once the list has reached the store: in this process, the probe's request is sent only when the
      // server lets the event loop go.
      const store = server.kjobs.store;
      const list = store.list.bind(store);
      let listing: () => void = () => undefined;
      const listed = new Promise<void>((resolve) => (listing = resolve));
      store.list = (query) => {
        listing();
        return list(query);
      };
      const order: string[] = [];
      const page = fetch(`${server.origin}${API}/jobs?pageSize=10000`, { headers: { accept } }).then(
        async (response) => {
          order.push('page');
          return (await response.text()).length;
        },
      );
      await listed;
      const probe = fetch(`${server.origin}/healthz`).then(async (response) => {
        order.push('healthz');
        return response.status;
      });
      assert.equal(await probe, 200);
      assert.ok((await page) > 1_000_000);
      store.list = list;
      assert.deepEqual(order, ['healthz', 'page'], `${accept}: /healthz was answered before the page`);
    }
  });
});
