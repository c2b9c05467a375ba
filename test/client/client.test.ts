// The client against a real kjobs server on loopback: every operation, in JSON and in XML, and the errors.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ApiError, ConnectionError, KieJobsClient, type WireFormat } from '../../src/client/index.js';
import { eventually, FAILING, FAR_FUTURE, PRINT_OUT, startServer, type ClientTestServer } from './server.js';

const GREET = 'com.acme.Greet';

for (const format of ['json', 'xml'] as WireFormat[]) {
  describe(`client over ${format}`, () => {
    let server: ClientTestServer;
    let client: KieJobsClient;

    before(async () => {
      server = await startServer({
        kjobs: {
          containers: { acme: { [GREET]: () => ({ greeted: true }) } },
          executor: { pollIntervalMs: 20 },
        },
      });
      client = new KieJobsClient({ baseUrl: server.baseUrl, format });
    });

    test('scheduleRequest and getRequestById, with typed data and dates', async () => {
      const when = new Date(FAR_FUTURE.getTime() + 123);
      const data = {
        businessKey: `key-${format}`,
        text: 'a <b> & "c"',
        count: 42,
        big: 2 ** 40,
        ratio: 0.5,
        flag: true,
        nothing: null,
        due: new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6)),
        nested: { inner: 'x', list: [1, 'two', false] },
        processInstanceId: 77,
      };
      const id = await client.scheduleRequest({
        jobCommand: PRINT_OUT,
        scheduledDate: when,
        requestData: data,
      });
      assert.ok(Number.isSafeInteger(id) && id > 0);

      const plain = await client.getRequestById(id);
      assert.equal(plain.requestInstanceId, id);
      assert.equal(plain.requestStatus, 'QUEUED');
      assert.equal(plain.requestBusinessKey, `key-${format}`);
      assert.equal(plain.requestMessage, 'Ready to execute');
      assert.equal(plain.requestCommand, PRINT_OUT);
      assert.equal(plain.requestExecutions, 0);
      assert.ok(plain.requestScheduledDate instanceof Date);
      assert.equal(plain.requestScheduledDate.getTime(), when.getTime());
      assert.equal(plain.requestData, null);
      assert.equal(plain.responseData, null);
      assert.equal(plain.requestErrors, null);
      assert.equal(plain.requestContainerId, null);

      const full = await client.getRequestById(id, { withErrors: true, withData: true });
      assert.deepEqual(full.requestData, data);
      assert.deepEqual(full.responseData, {});
      assert.deepEqual(full.requestErrors, { errorInfoInstance: [] });
    });

    test('the lists: by status, business key, command, container, process instance; pages', async () => {
      const key = `list-${format}`;
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(
          await client.scheduleRequest({
            jobCommand: PRINT_OUT,
            scheduledDate: FAR_FUTURE,
            requestData: { businessKey: key, processInstanceId: 9000 + (format === 'xml' ? 1 : 0) },
          }),
        );
      }
      const inContainer = await client.scheduleRequest(
        { jobCommand: GREET, scheduledDate: FAR_FUTURE, requestData: { businessKey: `${key}-c` } },
        { containerId: 'acme' },
      );

      const byKey = await client.getRequestsByBusinessKey(key);
      assert.deepEqual(
        byKey.requestInfoInstance.map((job) => job.requestInstanceId),
        ids,
      );
      assert.ok(byKey.requestInfoInstance.every((job) => job.requestScheduledDate instanceof Date));
      const page = await client.getRequestsByBusinessKey(key, { page: 1, pageSize: 2 });
      assert.deepEqual(
        page.requestInfoInstance.map((job) => job.requestInstanceId),
        [ids[2]],
      );
      assert.deepEqual(
        (await client.getRequestsByBusinessKey(key, { status: ['DONE'] })).requestInfoInstance,
        [],
      );

      const byCommand = await client.getRequestsByCommand(GREET, { status: 'QUEUED' });
      assert.ok(byCommand.requestInfoInstance.some((job) => job.requestInstanceId === inContainer));

      const byContainer = await client.getRequestsByContainer('acme');
      const mine = byContainer.requestInfoInstance.find((job) => job.requestInstanceId === inContainer);
      assert.equal(mine?.requestContainerId, 'acme');

      const byProcess = await client.getRequestsByProcessInstance(9000 + (format === 'xml' ? 1 : 0));
      assert.deepEqual(
        byProcess.requestInfoInstance.map((job) => job.requestInstanceId),
        ids,
      );

      const byStatus = await client.getRequestsByStatus(['QUEUED'], { pageSize: 100 });
      const listed = byStatus.requestInfoInstance.map((job) => job.requestInstanceId);
      assert.ok(ids.every((id) => listed.includes(id)));
      assert.deepEqual(
        listed,
        [...listed].sort((a, b) => b - a),
        'newest first',
      );
      assert.deepEqual(
        await client
          .getRequestsByStatus(undefined, { pageSize: 1 })
          .then((l) => l.requestInfoInstance.length),
        1,
      );
    });

    test('updateRequestData merges keys; cancelRequest cancels', async () => {
      const id = await client.scheduleRequest({
        jobCommand: PRINT_OUT,
        scheduledDate: FAR_FUTURE,
        requestData: { businessKey: 'u', keep: 'me', change: 'old' },
      });
      await client.updateRequestData(id, { change: 'new', added: 3, when: new Date(1_000_000) });
      const job = await client.getRequestById(id, { withData: true });
      assert.deepEqual(job.requestData, {
        businessKey: 'u',
        keep: 'me',
        change: 'new',
        added: 3,
        when: new Date(1_000_000),
      });
      await client.cancelRequest(id);
      assert.equal((await client.getRequestById(id)).requestStatus, 'CANCELLED');
    });

    test('requeueRequest: a failed job runs again; errors are read', async () => {
      const id = await client.scheduleRequest({ jobCommand: FAILING, requestData: { retries: 0 } });
      const failed = await eventually(
        () => client.getRequestById(id, { withErrors: true }),
        (job) => job.requestStatus === 'ERROR',
      );
      const errors = failed.requestErrors?.errorInfoInstance ?? [];
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.requestInstanceId, id);
      assert.ok(errors[0]?.errorDate instanceof Date && !Number.isNaN(errors[0].errorDate.getTime()));
      assert.match(errors[0]?.errorMessage ?? '', /Throwing error for testing purpose/);
      await client.requeueRequest(id);
      await eventually(
        () => client.getRequestById(id, { withErrors: true }),
        (job) => job.requestStatus === 'ERROR' && job.requestErrors?.errorInfoInstance.length === 2,
      );
    });

    test('errors: unknown job 404, wrong state 409 (and KIE 400 on data), ApiError carries status, body, headers', async () => {
      const unknown = 987654321;
      for (const call of [
        () => client.getRequestById(unknown),
        () => client.cancelRequest(unknown),
        () => client.requeueRequest(unknown),
        () => client.updateRequestData(unknown, { a: 1 }),
      ]) {
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(error instanceof ApiError);
          assert.equal(error.status, 404);
          assert.match(error.body, /^".*"$/s);
          assert.match(error.message, new RegExp(`${unknown}`));
          assert.doesNotMatch(error.message, /^"/);
          assert.match(error.headers.get('content-type') ?? '', /text\/plain/);
          return true;
        });
      }
      const id = await client.scheduleRequest({ jobCommand: PRINT_OUT, scheduledDate: FAR_FUTURE });
      await client.cancelRequest(id);
      await assert.rejects(
        client.cancelRequest(id),
        (error: unknown) => error instanceof ApiError && error.status === 409,
      );
      await assert.rejects(
        client.requeueRequest(id),
        (error: unknown) => error instanceof ApiError && error.status === 409,
      );
      await assert.rejects(
        client.updateRequestData(id, { a: 1 }),
        (error: unknown) =>
          error instanceof ApiError && error.status === 400 && /CANCELLED/.test(error.message),
      );
      await assert.rejects(
        client.scheduleRequest({ jobCommand: 'no.such.Command' }),
        (error: unknown) => error instanceof ApiError && error.status === 400,
      );
      await assert.rejects(
        client.getRequestsByStatus(['NOPE' as 'QUEUED']),
        (error: unknown) => error instanceof ApiError && error.status === 400,
      );
    });

    test('listContainers and getContainer: the loaded containers, STARTED, with their commands', async () => {
      const containers = await client.listContainers();
      assert.deepEqual(
        containers.map((c) => [c.containerId, c.status, c.containerAlias, c.releaseId, c.commands]),
        [['acme', 'STARTED', 'acme', null, [GREET]]],
      );
      const [message] = containers[0]?.messages ?? [];
      assert.equal(message?.severity, 'INFO');
      assert.deepEqual(message?.content, [`Container acme successfully created with commands ${GREET}.`]);
      assert.ok(message?.timestamp instanceof Date && !Number.isNaN(message.timestamp.getTime()));
      assert.deepEqual(await client.getContainer('acme'), containers[0]);
      await assert.rejects(client.getContainer('nope'), (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.status, 404);
        assert.equal(error.body, '"Container nope is not instantiated."');
        return true;
      });
      await assert.rejects(client.getContainer('..'), TypeError);
    });
  });
}

describe('client configuration', () => {
  test('basic auth: right credentials pass, wrong ones are ApiError 401', async () => {
    const server = await startServer({
      server: { users: [{ name: 'kie', password: 'pässword', roles: ['kie-server'] }] },
    });
    const good = new KieJobsClient({ baseUrl: server.baseUrl, user: 'kie', password: 'pässword' });
    const id = await good.scheduleRequest({ jobCommand: PRINT_OUT, scheduledDate: FAR_FUTURE });
    assert.equal((await good.getRequestById(id)).requestInstanceId, id);
    for (const client of [
      new KieJobsClient({ baseUrl: server.baseUrl, user: 'kie', password: 'wrong' }),
      new KieJobsClient({ baseUrl: server.baseUrl }),
    ]) {
      await assert.rejects(client.getRequestById(id), (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.status, 401);
        assert.match(error.headers.get('www-authenticate') ?? '', /Basic/);
        return true;
      });
    }
    const withHeader = new KieJobsClient({
      baseUrl: `${server.baseUrl}/server/`,
      headers: { Authorization: `Basic ${Buffer.from('kie:pässword').toString('base64')}` },
    });
    assert.equal((await withHeader.getRequestById(id)).requestInstanceId, id);
  });

  test('a server writing ISO-8601 dates in JSON (kjobs --json-dates iso, KIE format.date) reads the same', async () => {
    const server = await startServer({ server: { jsonDates: 'iso' } });
    const client = new KieJobsClient({ baseUrl: server.baseUrl });
    const at = new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 10));
    const id = await client.scheduleRequest({
      jobCommand: PRINT_OUT,
      scheduledDate: at,
      requestData: { at },
    });
    const job = await client.getRequestById(id, { withData: true });
    assert.equal(job.requestScheduledDate?.getTime(), at.getTime());
    // Inside data an ISO string is only a string: nothing marks it as a date.
    assert.equal(typeof job.requestData?.at, 'string');
    assert.equal(new Date(job.requestData?.at as string).getTime(), at.getTime());
    const [listed] = (await client.getRequestsByCommand(PRINT_OUT)).requestInfoInstance;
    assert.equal(listed?.requestScheduledDate?.getTime(), at.getTime());
  });

  test('custom fetch, extra headers and the wire format of requests', async () => {
    const server = await startServer();
    const seen: { url: string; init: RequestInit }[] = [];
    const client = new KieJobsClient({
      baseUrl: server.baseUrl,
      format: 'xml',
      headers: { 'X-KIE-ConversationId': 'conv-1' },
      fetch: (url, init) => {
        seen.push({ url, init });
        return fetch(url, init);
      },
    });
    const id = await client.scheduleRequest(
      { jobCommand: PRINT_OUT, scheduledDate: FAR_FUTURE },
      { containerId: undefined },
    );
    await client.getRequestsByBusinessKey('a b/c', { status: ['QUEUED', 'ERROR'], page: 0, pageSize: 5 });
    const [schedule, list] = seen;
    const headers = schedule?.init.headers as Record<string, string>;
    assert.equal(headers.accept, 'application/xml');
    assert.equal(headers['content-type'], 'application/xml');
    assert.equal(headers['x-kie-contenttype'], 'JAXB');
    assert.equal(headers['x-kie-conversationid'], 'conv-1');
    assert.match(String(schedule?.init.body), /^<\?xml[^>]*>\n<job-request-instance><job-command>/);
    assert.equal(
      list?.url,
      `${server.baseUrl}/server/jobs/keys/a%20b%2Fc?status=QUEUED&status=ERROR&page=0&pageSize=5`,
    );
    assert.ok(id > 0);
  });

  test('timeout and unreachable servers are ConnectionErrors; a caller abort stays an abort', async () => {
    const slow = new KieJobsClient({
      baseUrl: 'http://127.0.0.1:1/kie-server/services/rest',
      timeoutMs: 50,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) => {
          if (init.signal?.aborted) reject(init.signal.reason);
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    });
    await assert.rejects(slow.getRequestById(1), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.timedOut, true);
      return true;
    });
    const refused = new KieJobsClient({ baseUrl: 'http://127.0.0.1:1/kie-server/services/rest' });
    await assert.rejects(refused.getRequestById(1), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.timedOut, false);
      assert.match(error.message, /GET http:\/\/127\.0\.0\.1:1\/.*\/server\/jobs\/1/);
      return true;
    });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(slow.getRequestById(1, { signal: controller.signal }), /stop/);
  });

  test('arguments that are not valid are TypeErrors, before any request', async () => {
    const client = new KieJobsClient({
      baseUrl: 'http://127.0.0.1:1',
      fetch: () => assert.fail('no request expected'),
    });
    await assert.rejects(client.getRequestById(-1), TypeError);
    await assert.rejects(client.getRequestById(1.5), TypeError);
    await assert.rejects(client.scheduleRequest({ jobCommand: '' }), TypeError);
    // URL parsers resolve dot segments (even %2E): the request would reach /server/jobs instead.
    await assert.rejects(client.getRequestsByBusinessKey('..'), TypeError);
    await assert.rejects(client.getRequestsByCommand('.'), TypeError);
    await assert.rejects(client.getRequestsByContainer(''), TypeError);
    assert.throws(() => new KieJobsClient({ baseUrl: 'localhost:8080' }), TypeError);
  });
});
