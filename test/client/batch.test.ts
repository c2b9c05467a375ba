// The client's scheduleRequests (POST /server/jobs/batch, a kjobs extension) against a real server, JSON and XML.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ApiError, KieJobsClient, type WireFormat } from '../../src/client/index.js';
import { FAR_FUTURE, PRINT_OUT, startServer, type ClientTestServer } from './server.js';

const GREET = 'com.acme.Greet';

for (const format of ['json', 'xml'] as WireFormat[]) {
  describe(`client scheduleRequests over ${format}`, () => {
    let server: ClientTestServer;
    let client: KieJobsClient;

    before(async () => {
      server = await startServer({ kjobs: { containers: { acme: { [GREET]: () => ({}) } } } });
      client = new KieJobsClient({ baseUrl: server.baseUrl, format });
    });

    test('schedules every job of the batch and answers the ids in order', async () => {
      const key = `batch-${format}`;
      const when = new Date(FAR_FUTURE.getTime() + 5);
      const ids = await client.scheduleRequests([
        { jobCommand: PRINT_OUT, scheduledDate: when, requestData: { businessKey: key, n: 1 } },
        { jobCommand: PRINT_OUT, requestData: { businessKey: key, n: 2 } },
        { jobCommand: PRINT_OUT, scheduledDate: when, requestData: { businessKey: key, n: 3 } },
      ]);
      assert.equal(ids.length, 3);
      const jobs = await client.getRequestsByBusinessKey(key);
      assert.deepEqual(
        jobs.requestInfoInstance.map((job) => job.requestInstanceId),
        ids,
      );
      const first = await client.getRequestById(ids[0]!, { withData: true });
      assert.equal(first.requestScheduledDate?.getTime(), when.getTime());
      assert.deepEqual(first.requestData, { businessKey: key, n: 1 });
      assert.deepEqual(await client.scheduleRequests([]), []);
    });

    test('applies containerId to every job', async () => {
      const ids = await client.scheduleRequests(
        [
          { jobCommand: GREET, scheduledDate: FAR_FUTURE },
          { jobCommand: GREET, scheduledDate: FAR_FUTURE },
        ],
        { containerId: 'acme' },
      );
      for (const id of ids) assert.equal((await client.getRequestById(id)).requestContainerId, 'acme');
    });

    test('a refused batch schedules nothing: 400 naming the index, 409 for a taken unique key', async () => {
      const key = `refused-${format}`;
      await assert.rejects(
        client.scheduleRequests([
          { jobCommand: PRINT_OUT, requestData: { businessKey: key } },
          { jobCommand: 'com.acme.Unknown', requestData: { businessKey: key } },
        ]),
        (error: unknown) =>
          error instanceof ApiError &&
          error.status === 400 &&
          error.message === 'Job request 1: Invalid command type com.acme.Unknown',
      );
      const existing = await client.scheduleRequest({
        jobCommand: PRINT_OUT,
        scheduledDate: FAR_FUTURE,
        requestData: { businessKey: `${key}-u`, unique: true },
      });
      await assert.rejects(
        client.scheduleRequests([
          { jobCommand: PRINT_OUT, requestData: { businessKey: key } },
          { jobCommand: PRINT_OUT, requestData: { businessKey: `${key}-u`, unique: true } },
        ]),
        (error: unknown) =>
          error instanceof ApiError && error.status === 409 && error.message.endsWith(`job ${existing}`),
      );
      assert.deepEqual((await client.getRequestsByBusinessKey(key)).requestInfoInstance, []);
      await assert.rejects(
        client.scheduleRequests([{ jobCommand: PRINT_OUT }, { jobCommand: '' }]),
        /job request 1 needs a jobCommand/,
      );
    });
  });
}
