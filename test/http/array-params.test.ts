// Array query parameters as generated clients write them: Typhoeus' `status[0]=A&status[1]=B` (the seed's Ruby
// client, by default), Rack's `status[]=A`, and KIE's own repeated `status=A&status=B`, in any mix, on every list.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseQueryString } from '../../src/http/params.js';
import { JSON_HEADERS, jobJson, startServer, type TestServer } from './helpers.js';

const GREET = 'com.acme.Greet';

describe('array query parameters', () => {
  let server: TestServer;
  const ids: Record<'queued' | 'cancelled', number[]> = { queued: [], cancelled: [] };
  before(async () => {
    server = await startServer({ kjobs: { containers: { acme: { [GREET]: () => ({}) } } } });
    for (const cancel of [false, true, false, true]) {
      const answer = await server.call('POST', '/jobs?containerId=acme', {
        ...JSON_HEADERS,
        body: jobJson(GREET, { businessKey: 'order-1', processInstanceId: 7 }),
      });
      assert.equal(answer.status, 201, answer.text);
      const id = Number(answer.text);
      if (cancel) {
        assert.equal((await server.call('DELETE', `/jobs/${id}`)).status, 204);
        ids.cancelled.push(id);
      } else ids.queued.push(id);
    }
  });

  const listed = async (path: string): Promise<number[]> => {
    const answer = await server.call('GET', path, { accept: 'application/json' });
    assert.equal(answer.status, 200, `${path}: ${answer.text}`);
    const list = JSON.parse(answer.text)['request-info-instance'] as { 'request-instance-id': number }[];
    return list.map((job) => job['request-instance-id']).sort((a, b) => a - b);
  };
  const all = () => [...ids.queued, ...ids.cancelled].sort((a, b) => a - b);

  const lists = [
    '/jobs',
    '/jobs/keys/order-1',
    `/jobs/commands/${GREET}`,
    '/jobs/containers/acme',
    '/jobs/processes/instances/7',
  ];

  for (const list of lists) {
    it(`${list}: Typhoeus' indexed form, encoded and not, filters as repeated status`, async () => {
      const repeated = await listed(`${list}?status=QUEUED&status=CANCELLED`);
      assert.deepEqual(repeated, all());
      // Exactly what Typhoeus (ethon) writes for params: { status: ['QUEUED', 'CANCELLED'] }.
      assert.deepEqual(await listed(`${list}?status%5B0%5D=QUEUED&status%5B1%5D=CANCELLED`), all());
      assert.deepEqual(await listed(`${list}?status[0]=QUEUED&status[1]=CANCELLED`), all());
      assert.deepEqual(await listed(`${list}?status%5B0%5D=CANCELLED`), ids.cancelled);
    });

    it(`${list}: Rack's empty brackets and a mix of all three forms`, async () => {
      assert.deepEqual(await listed(`${list}?status%5B%5D=CANCELLED`), ids.cancelled);
      assert.deepEqual(await listed(`${list}?status[]=CANCELLED&status[]=QUEUED`), all());
      assert.deepEqual(await listed(`${list}?status=CANCELLED&status%5B7%5D=QUEUED&page=0`), all());
      assert.deepEqual(await listed(`${list}?status%5B%5D=QUEUED&pageSize=10`), ids.queued);
    });

    it(`${list}: an unknown status in any form is 400`, async () => {
      for (const query of ['status%5B0%5D=QUEUED&status%5B1%5D=NOPE', 'status%5B%5D=done', 'status[3]=X']) {
        const answer = await server.call('GET', `${list}?${query}`, { accept: 'application/json' });
        assert.equal(answer.status, 400, query);
        assert.match(answer.text, /^"Unknown status "(NOPE|done|X)": use QUEUED, /);
      }
    });
  }

  it('other parameters too: page[]=1 is page=1, and two of them are refused as two pages', async () => {
    const first = await listed('/jobs?status[]=QUEUED&pageSize[]=1&page%5B%5D=1');
    assert.equal(first.length, 1);
    const twice = await server.call('GET', '/jobs?page[0]=0&page[1]=1', { accept: 'application/json' });
    assert.equal(twice.status, 400);
    assert.equal(twice.text, '"page was given 2 times; give it once"');
    const flag = await server.call('GET', `/jobs/${ids.queued[0]}?withData%5B%5D=true`, {
      accept: 'application/json',
    });
    assert.notEqual(JSON.parse(flag.text)['request-data'], null);
  });

  it('parseQueryString: only [] and [digits] are array forms; other keys stay as written', () => {
    assert.deepEqual(
      { ...parseQueryString('status%5B0%5D=A&status=B&status[]=C&a[b]=1&x=%20y+z&__proto__=1') },
      { status: ['A', 'B', 'C'], 'a[b]': '1', x: ' y z', ['__proto__']: '1' },
    );
    assert.equal(Object.getPrototypeOf(parseQueryString('__proto__[]=1')), null);
  });
});
