// The samples of ../shared/kie-jobs-api.md (and the protocol reference), sent to kjobs and read back.
process.env.TZ = 'Europe/Paris';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { JSON_HEADERS, PRINT_OUT, startServer, XML_HEADERS, type TestServer } from './helpers.js';

const NS =
  'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

// kie-jobs-api.md, "JobRequestInstance (schedule body)".
const SCHEDULE_JSON = `{"job-command": "org.jbpm.executor.commands.PrintOutCommand", "scheduled-date": {"java.util.Date": 1540023411655},
  "request-data": {"businessKey": "test key"}}`;

// kie-jobs-protocol.md §3.1, the JAXB form.
const SCHEDULE_XML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<job-request-instance>
    <job-command>org.jbpm.executor.commands.PrintOutCommand</job-command>
    <scheduled-date>2018-10-20T10:16:51.326+02:00</scheduled-date>
    <request-data>
        <entry>
            <key>businessKey</key>
            <value xsi:type="xs:string" ${NS}>test key</value>
        </entry>
        <entry>
            <key>retries</key>
            <value xsi:type="xs:int" ${NS}>0</value>
        </entry>
    </request-data>
</job-request-instance>`;

// kie-jobs-api.md, "updateRequestData XML body".
const UPDATE_XML = `<map-type><entries><entry><key>age</key><value xsi:type="xs:int" ${NS}>25</value></entry></entries></map-type>`;

// kie-jobs-api.md, the RequestInfoInstance sample: its keys, in order.
const REQUEST_INFO_SAMPLE = `{ "request-instance-id": 6, "request-status": "DONE", "request-business-key": "job3",
  "request-message": "Ready to execute", "request-retries": 5, "request-executions": 1,
  "request-command": "org.jbpm.executor.commands.LogCleanupCommand",
  "request-scheduled-date": {"java.util.Date": 1540385144520},
  "request-data": {"retries": "5", "businessKey": "job3"}, "response-data": {"RequestInfoLogsRemoved": 2},
  "request-errors": {"error-info-instance": []}, "request-container-id": null }`;

describe('samples of the KIE references', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  const getJson = async (path: string) =>
    JSON.parse((await server.call('GET', path, { accept: 'application/json' })).text) as Record<
      string,
      unknown
    >;

  it('JSON JobRequestInstance: 201 and `1`; read back with the same date and data', async () => {
    const answer = await server.call('POST', '/jobs', { ...JSON_HEADERS, body: SCHEDULE_JSON });
    assert.equal(answer.status, 201);
    assert.equal(answer.text, '1');
    const job = await getJson('/jobs/1?withData=true&withErrors=true');
    const sample = JSON.parse(SCHEDULE_JSON);
    assert.equal(job['request-command'], sample['job-command']);
    assert.deepEqual(job['request-scheduled-date'], sample['scheduled-date']);
    assert.deepEqual(job['request-data'], sample['request-data']);
    assert.equal(job['request-business-key'], 'test key');
    assert.equal(job['request-status'], 'QUEUED');
    assert.equal(job['request-message'], 'Ready to execute');
    // Same keys, same order as KIE's RequestInfoInstance sample.
    assert.deepEqual(Object.keys(job), Object.keys(JSON.parse(REQUEST_INFO_SAMPLE)));
  });

  it('XML JobRequestInstance: 201 and <long-type>; read back in XML with the same date and typed entries', async () => {
    const answer = await server.call('POST', '/jobs', { ...XML_HEADERS, body: SCHEDULE_XML });
    assert.equal(answer.status, 201);
    assert.equal(
      answer.text,
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<long-type>\n    <value>2</value>\n</long-type>\n',
    );
    const xml = (await server.call('GET', '/jobs/2?withData=true', { accept: 'application/xml' })).text;
    assert.match(xml, /<request-scheduled-date>2018-10-20T10:16:51\.326\+02:00<\/request-scheduled-date>/);
    const entries = /<request-data>([\s\S]*)<\/request-data>/.exec(xml)?.[1] ?? '';
    const sampleEntries = /<request-data>([\s\S]*)<\/request-data>/.exec(SCHEDULE_XML)?.[1] ?? '';
    assert.equal(entries.replace(/\s+/g, ' ').trim(), sampleEntries.replace(/\s+/g, ' ').trim());
    const job = await getJson('/jobs/2');
    assert.equal(job['request-retries'], 0);
  });

  it("KIE documentation's <data> element is accepted like <request-data>", async () => {
    const body = SCHEDULE_XML.replace(/request-data>/g, 'data>');
    const answer = await server.call('POST', '/jobs', { ...XML_HEADERS, body });
    assert.equal(answer.status, 201);
    const job = await getJson('/jobs/3?withData=true');
    assert.deepEqual(job['request-data'], { businessKey: 'test key', retries: 0 });
  });

  it('<map-type> update-data body: age 25 merged as a number', async () => {
    const answer = await server.call('POST', '/jobs/1/data', { ...XML_HEADERS, body: UPDATE_XML });
    assert.equal(answer.status, 201);
    const job = await getJson('/jobs/1?withData=true');
    assert.deepEqual(job['request-data'], { businessKey: 'test key', age: 25 });
  });

  it('JSON update-data body and class-name wrapped values kept as given', async () => {
    const body = '{"age": 25, "person": {"com.acme.Person": {"name": "john"}}}';
    assert.equal((await server.call('POST', '/jobs/2/data', { ...JSON_HEADERS, body })).status, 201);
    const job = await getJson('/jobs/2?withData=true');
    assert.deepEqual(job['request-data'], {
      businessKey: 'test key',
      retries: 0,
      age: 25,
      person: { 'com.acme.Person': { name: 'john' } },
    });
  });

  it('the missing-job error of KIE, and the empty lists', async () => {
    const missing = await server.call('GET', '/jobs/5');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, `"Request with id: 5 doesn't exist"`);
    const emptyJson = await server.call('GET', '/jobs?status=RUNNING', { accept: 'application/json' });
    assert.deepEqual(JSON.parse(emptyJson.text), { 'request-info-instance': [] });
    const emptyXml = await server.call('GET', '/jobs?status=RUNNING', { accept: 'application/xml' });
    assert.match(emptyXml.text, /<request-info-instance-list\/>\n$/);
  });

  it('the client calls of the seed (Ruby swagger client) work with JSON content types', async () => {
    // get_requests_by_status with status array, page, page_size.
    const list = await server.call('GET', '/jobs?status=QUEUED&page=0&pageSize=10', {
      accept: 'application/json',
    });
    assert.equal(JSON.parse(list.text)['request-info-instance'].length, 3);
    const byKey = await server.call('GET', `/jobs/keys/${encodeURIComponent('test key')}?status=QUEUED`, {
      accept: 'application/json',
    });
    assert.equal(JSON.parse(byKey.text)['request-info-instance'].length, 3);
    const byCommand = await server.call('GET', `/jobs/commands/${PRINT_OUT}?page=0&pageSize=2`, {
      accept: 'application/json',
    });
    assert.deepEqual(
      JSON.parse(byCommand.text)['request-info-instance'].map(
        (j: Record<string, unknown>) => j['request-instance-id'],
      ),
      [1, 2],
    );
  });
});
