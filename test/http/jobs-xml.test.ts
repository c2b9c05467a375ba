// Every operation of the jobs API in JAXB-style XML, over real HTTP, checked against golden documents.
process.env.TZ = 'Europe/Paris';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import {
  assertGolden,
  FAR_FUTURE,
  NS,
  PRINT_OUT,
  startServer,
  XML_HEADERS,
  type TestServer,
} from './helpers.js';

const GREET = 'com.acme.Greet';
const HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
// An independent reader for assertions (the code under test has its own).
const reader = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  isArray: (name) => name === 'request-info-instance' || name === 'entry',
});

function jobXml(
  command: string,
  entries: string,
  { date = '2100-01-01T01:00:00.000+01:00', element = 'request-data' } = {},
) {
  return (
    HEADER +
    `<job-request-instance>\n    <job-command>${command}</job-command>\n` +
    (date ? `    <scheduled-date>${date}</scheduled-date>\n` : '') +
    `    <${element}>${entries}</${element}>\n</job-request-instance>\n`
  );
}

const entry = (key: string, type: string, value: string) =>
  `<entry><key>${key}</key><value xsi:type="${type}" ${NS}>${value}</value></entry>`;

describe('jobs API, XML', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ kjobs: { containers: { acme: { [GREET]: () => ({}) } } } });
  });

  const get = (path: string) => server.call('GET', path, { accept: 'application/xml' });
  const ids = (text: string): number[] => {
    const list = reader.parse(text)['request-info-instance-list'];
    return list
      ? (list['request-info-instance'] ?? []).map((job: Record<string, string>) =>
          Number(job['request-instance-id']),
        )
      : [];
  };
  const schedule = async (body: string, query = '') => {
    const answer = await server.call('POST', `/jobs${query}`, { ...XML_HEADERS, body });
    assert.equal(answer.status, 201, answer.text);
    return answer;
  };

  it('scheduleRequest answers 201 with <long-type>', async () => {
    const answer = await schedule(
      jobXml(
        PRINT_OUT,
        entry('businessKey', 'xs:string', 'job-1') +
          entry('retries', 'xs:int', '5') +
          entry('big', 'xs:long', '9007199254740991') +
          entry('flag', 'xs:boolean', 'true') +
          entry('ratio', 'xs:double', '0.25') +
          entry('when', 'xs:dateTime', '2018-10-20T10:16:51.326+02:00') +
          entry('text', 'xs:string', '  a &amp; b &lt;c&gt; &#233;  '),
      ),
    );
    assert.equal(answer.type, 'application/xml');
    assert.equal(answer.text, `${HEADER}<long-type>\n    <value>1</value>\n</long-type>\n`);
    assertGolden('schedule.xml', answer.text);
  });

  it("accepts KIE documentation's <data> in place of <request-data>, and ?containerId", async () => {
    await schedule(
      jobXml(
        PRINT_OUT,
        entry('businessKey', 'xs:string', 'job-2') + entry('processInstanceId', 'xs:long', '42'),
        { element: 'data' },
      ),
    );
    const answer = await schedule(
      jobXml(GREET, entry('businessKey', 'xs:string', 'job-1')),
      '?containerId=acme',
    );
    assert.match(answer.text, /<value>3<\/value>/);
  });

  it('getRequestById without errors or data: null fields left out, dates as xs:dateTime', async () => {
    const answer = await get('/jobs/1');
    assert.equal(answer.status, 200);
    assert.ok(answer.text.startsWith(HEADER));
    assert.match(
      answer.text,
      /<request-scheduled-date>2100-01-01T01:00:00\.000\+01:00<\/request-scheduled-date>/,
    );
    assert.doesNotMatch(answer.text, /request-data|response-data|request-errors|request-container-id/);
    assertGolden('job-queued.xml', answer.text);
  });

  it('getRequestById with errors and data: typed JAXB map entries', async () => {
    const answer = await get('/jobs/1?withErrors=true&withData=true');
    assert.equal(answer.status, 200);
    const text = answer.text;
    assert.match(text, new RegExp(`<value xsi:type="xs:int" ${NS}>5</value>`));
    assert.match(text, /<value xsi:type="xs:long" [^>]*>9007199254740991<\/value>/);
    assert.match(text, /<value xsi:type="xs:boolean" [^>]*>true<\/value>/);
    assert.match(text, /<value xsi:type="xs:double" [^>]*>0.25<\/value>/);
    assert.match(text, /<value xsi:type="xs:dateTime" [^>]*>2018-10-20T10:16:51\.326\+02:00<\/value>/);
    assert.match(text, /<value xsi:type="xs:string" [^>]*> {2}a &amp; b &lt;c&gt; é {2}<\/value>/);
    assert.match(text, /<response-data\/>\n {4}<request-errors\/>\n<\/request-info-instance>/);
    assertGolden('job-queued-with-data.xml', text);
    // The same job in JSON: the date stored as KIE's wrapper, the others as JSON values.
    const json = JSON.parse(
      (await server.call('GET', '/jobs/1?withData=true', { accept: 'application/json' })).text,
    );
    assert.deepEqual(json['request-data'], {
      businessKey: 'job-1',
      retries: 5,
      big: 9007199254740991,
      flag: true,
      ratio: 0.25,
      when: { 'java.util.Date': 1540023411326 },
      text: '  a & b <c> é  ',
    });
    assert.deepEqual(json['request-scheduled-date'], { 'java.util.Date': FAR_FUTURE });
  });

  it('getRequestsByStatus: QUEUED by default, newest first, paged', async () => {
    assert.deepEqual(ids((await get('/jobs')).text), [3, 2, 1]);
    const page = await get('/jobs?status=QUEUED&status=RETRYING&page=0&pageSize=2');
    assert.deepEqual(ids(page.text), [3, 2]);
    assertGolden('list-page.xml', page.text);
  });

  it('getRequestsByBusinessKey, ByCommand, ByContainer, ByProcessInstance', async () => {
    assert.deepEqual(ids((await get('/jobs/keys/job-1')).text), [1, 3]);
    assert.deepEqual(ids((await get(`/jobs/commands/${PRINT_OUT}`)).text), [1, 2]);
    assert.deepEqual(ids((await get('/jobs/containers/acme')).text), [3]);
    assert.deepEqual(ids((await get('/jobs/processes/instances/42')).text), [2]);
  });

  it('an empty list is <request-info-instance-list/>', async () => {
    const answer = await get('/jobs?status=ERROR');
    assert.equal(answer.text, `${HEADER}<request-info-instance-list/>\n`);
    assertGolden('list-empty.xml', answer.text);
  });

  it('updateRequestData takes a <map-type>: 201, empty body, keys merged', async () => {
    const body = `${HEADER}<map-type>\n    <entries>\n        ${entry('age', 'xs:int', '25')}\n        ${entry('retries', 'xs:int', '1')}\n    </entries>\n</map-type>\n`;
    const answer = await server.call('POST', '/jobs/2/data', { ...XML_HEADERS, body });
    assert.equal(answer.status, 201, answer.text);
    assert.equal(answer.text, '');
    const json = JSON.parse(
      (await server.call('GET', '/jobs/2?withData=true', { accept: 'application/json' })).text,
    );
    assert.deepEqual(json['request-data'], {
      businessKey: 'job-2',
      processInstanceId: 42,
      age: 25,
      retries: 1,
    });
  });

  it('requeueRequest: 201, empty body', async () => {
    const answer = await server.call('PUT', '/jobs/2', { ...XML_HEADERS, body: '' });
    assert.equal(answer.status, 201);
    assert.equal(answer.text, '');
  });

  it('cancelRequest: 204, empty body; the list shows it CANCELLED', async () => {
    const answer = await server.call('DELETE', '/jobs/2', { accept: 'application/xml' });
    assert.equal(answer.status, 204);
    assert.equal(answer.text, '');
    const cancelled = await get('/jobs?status=CANCELLED');
    assert.deepEqual(ids(cancelled.text), [2]);
    assertGolden('list-cancelled.xml', cancelled.text);
  });

  it('nested maps and lists round-trip as jaxbMap and jaxbList, nulls as entries without value', async () => {
    const json = JSON.stringify({
      'job-command': PRINT_OUT,
      'scheduled-date': FAR_FUTURE,
      'request-data': {
        list: [1, 'two', null, { three: 3 }],
        map: { a: { b: [true] } },
        none: null,
        empty: {},
        nothing: [],
      },
    });
    const id = (
      await server.call('POST', '/jobs', {
        accept: 'application/json',
        contentType: 'application/json',
        body: json,
      })
    ).text;
    const xml = await get(`/jobs/${id}?withData=true`);
    assertGolden('job-nested-data.xml', xml.text);
    // Send the XML request-data back as a new job: the data survives unchanged.
    const dataXml = /<request-data>[\s\S]*<\/request-data>/.exec(xml.text)?.[0] ?? '';
    const again = await schedule(
      jobXml(PRINT_OUT, dataXml.replace(/^<request-data>|<\/request-data>$/g, '')),
    );
    const id2 = /<value>(\d+)<\/value>/.exec(again.text)?.[1];
    const data1 = JSON.parse(
      (await server.call('GET', `/jobs/${id}?withData=true`, { accept: 'application/json' })).text,
    )['request-data'];
    const data2 = JSON.parse(
      (await server.call('GET', `/jobs/${id2}?withData=true`, { accept: 'application/json' })).text,
    )['request-data'];
    assert.deepEqual(data2, data1);
    assert.deepEqual(data1, {
      list: [1, 'two', null, { three: 3 }],
      map: { a: { b: [true] } },
      none: null,
      empty: {},
      nothing: [],
    });
  });

  it('XML and JSON are chosen by Accept, Content-Type and X-KIE-ContentType, XML by default', async () => {
    const none = await server.call('GET', '/jobs/1');
    assert.equal(none.type, 'application/xml');
    const any = await server.call('GET', '/jobs/1', { accept: '*/*' });
    assert.equal(any.type, 'application/xml');
    const both = await server.call('GET', '/jobs/1', { accept: 'application/json, application/xml' });
    assert.equal(both.type, 'application/xml');
    const json = await server.call('GET', '/jobs/1', { accept: 'application/json' });
    assert.equal(json.type?.split(';')[0], 'application/json');
    const kie = await server.call('GET', '/jobs/1', {
      accept: 'application/json',
      headers: { 'X-KIE-ContentType': 'JAXB' },
    });
    assert.equal(kie.type, 'application/xml');
    assert.ok(kie.text.startsWith(HEADER));
    const kieJson = await server.call('GET', '/jobs/1', { headers: { 'X-KIE-ContentType': 'json' } });
    assert.equal(JSON.parse(kieJson.text)['request-instance-id'], 1);
    // Content-Type decides the body format over Accept, as KIE does.
    const posted = await server.call('POST', '/jobs', {
      accept: 'application/xml',
      contentType: 'application/json',
      body: JSON.stringify({ 'job-command': PRINT_OUT, 'scheduled-date': FAR_FUTURE }),
    });
    assert.equal(posted.status, 201);
    assert.match(posted.text, /^\d+$/);
  });

  it('echoes X-KIE-ConversationId', async () => {
    const answer = await server.call('GET', '/jobs/1', { headers: { 'X-KIE-ConversationId': 'conv-42' } });
    assert.equal(answer.headers.get('x-kie-conversationid'), 'conv-42');
    const error = await server.call('GET', '/jobs/999', { headers: { 'X-KIE-ConversationId': 'conv-43' } });
    assert.equal(error.headers.get('x-kie-conversationid'), 'conv-43');
  });
});
