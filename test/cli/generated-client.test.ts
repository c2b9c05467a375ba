/**
 * The Ruby client generated from KIE's swagger document (the seed, `jbpm_client`, Swagger Codegen) against
 * `kjobs serve` with `--user` and no date flag, as docs/migrating-from-kie.md configures it. Ruby is not installed
 * here, so the client is replayed over HTTP with the literal requests it sends: its default headers
 * (`Content-Type: application/json`, `User-Agent: Swagger-Codegen/1.0.0/ruby`, plus the `Authorization` that page
 * adds), the `Accept` it picks (JSON when offered), its paths and query names, `status` repeated (`params_encoding
 * = :multi`), and the schedule body as the JSON string its `schedule_request(body)` takes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startService, USER, type Service } from './service.js';

const folder = mkdtempSync(join(tmpdir(), 'kjobs-generated-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const BASE_PATH = '/kie-server/services/rest';
const BASIC = `Basic ${Buffer.from(USER).toString('base64')}`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$/;

/** One of the ten operations, as the generated Ruby client sends it. */
interface Operation {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  /** The only operation the swagger document declares `jbpm_auth` on: the client adds credentials by itself. */
  declaresAuth?: boolean;
}

/**
 * Sends an operation with the generated client's headers. `defaultAuthorization`: docs/migrating-from-kie.md's
 * `ApiClient.default.default_headers['Authorization'] = Configuration.default.basic_auth_token`.
 */
async function send(service: Service, operation: Operation, defaultAuthorization: boolean) {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'Swagger-Codegen/1.0.0/ruby',
    Accept: 'application/json',
  };
  if (defaultAuthorization || operation.declaresAuth) headers.Authorization = BASIC;
  const response = await fetch(service.address + BASE_PATH + operation.path, {
    method: operation.method,
    headers,
    ...(operation.body === undefined ? {} : { body: JSON.stringify(operation.body) }),
  });
  return { status: response.status, text: await response.text() };
}

/** Every date-typed field the client's models read with DateTime.parse, wherever it is in an answer. */
function dateFields(value: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const item of value) dateFields(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'request-scheduled-date' || key === 'error-date') found.push(item);
      else dateFields(item, found);
    }
  }
  return found;
}

describe('the generated Ruby client (seed) against kjobs serve --user, no date flag', () => {
  it('authenticates every operation with a default Authorization header and reads ISO-8601 dates', async () => {
    const service = await startService(['--db', join(folder, 'auth.db')]);
    const schedule: Operation = {
      name: 'schedule_request',
      method: 'POST',
      path: '/server/jobs',
      body: {
        'job-command': 'org.jbpm.executor.commands.PrintOutCommand',
        'scheduled-date': '2100-01-01T00:00:00+00:00',
        'request-data': { businessKey: 'seed-1', processInstanceId: 42 },
      },
    };

    // Without the default header, only the operation the document secures gets credentials: the rest get 401.
    const refused = await send(service, schedule, false);
    assert.equal(refused.status, 401, refused.text);

    const scheduled = await send(service, schedule, true);
    assert.equal(scheduled.status, 201, scheduled.text);
    const id = Number(scheduled.text);
    const readOperations: Operation[] = [
      { name: 'get_request_by_id', method: 'GET', path: `/server/jobs/${id}?withErrors=true&withData=true` },
      {
        name: 'get_requests_by_business_key',
        method: 'GET',
        path: '/server/jobs/keys/seed-1?page=0&pageSize=10',
      },
      {
        name: 'get_requests_by_command',
        method: 'GET',
        path: '/server/jobs/commands/org.jbpm.executor.commands.PrintOutCommand?page=0&pageSize=10',
      },
      {
        name: 'get_requests_by_process_instance',
        method: 'GET',
        path: '/server/jobs/processes/instances/42?page=0&pageSize=10',
        declaresAuth: true,
      },
      {
        name: 'get_requests_by_status',
        method: 'GET',
        path: '/server/jobs?status=QUEUED&status=DONE&page=0&pageSize=10',
      },
    ];
    for (const operation of readOperations) {
      const answer = await send(service, operation, true);
      assert.equal(answer.status, 200, `${operation.name}: ${answer.text}`);
      const dates = dateFields(JSON.parse(answer.text));
      assert.ok(dates.length > 0, `${operation.name} answered no job: ${answer.text}`);
      for (const date of dates) assert.match(String(date), ISO, `${operation.name}: ${JSON.stringify(date)}`);
      assert.equal(new Date(String(dates[0])).getTime(), Date.UTC(2100, 0, 1), operation.name);

      if (!operation.declaresAuth) {
        const without = await send(service, operation, false);
        assert.equal(without.status, 401, `${operation.name} without the default header: ${without.text}`);
      }
    }
    // The secured operation works even without the default header: the client adds credentials to it alone.
    assert.equal((await send(service, readOperations[3]!, false)).status, 200);

    const writeOperations: [Operation, number][] = [
      [
        {
          name: 'update_request_data',
          method: 'POST',
          path: `/server/jobs/${id}/data`,
          body: { note: 'updated' },
        },
        201,
      ],
      [{ name: 'requeue_request', method: 'PUT', path: `/server/jobs/${id}` }, 201],
      [{ name: 'cancel_request', method: 'DELETE', path: `/server/jobs/${id}` }, 204],
    ];
    for (const [operation, status] of writeOperations) {
      const answer = await send(service, operation, true);
      assert.equal(answer.status, status, `${operation.name}: ${answer.text}`);
    }
    const cancelled = await service.call('GET', `/jobs/${id}?withData=true`);
    const job = JSON.parse(cancelled.text) as Record<string, unknown>;
    assert.equal(job['request-status'], 'CANCELLED');
    assert.equal((job['request-data'] as Record<string, unknown>).note, 'updated');
    // Clients that are not generated from the document (here the test helper, as curl or KIE's Java client would)
    // keep KIE's date wrapper on the same server.
    assert.deepEqual(job['request-scheduled-date'], { 'java.util.Date': Date.UTC(2100, 0, 1) });
  });
});
