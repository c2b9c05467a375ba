// The client's readers on their own: both date forms, KIE's sample documents (kie-jobs-protocol.md §3, §4, §7).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIsoDate, readDate } from '../../src/client/index.js';
import {
  requestInfoFromJson,
  requestInfoListFromJson,
  scheduledIdFromJson,
  writeJobRequestJson,
} from '../../src/client/json.js';
import {
  parseXml,
  readEntries,
  requestInfoFromXml,
  requestInfoListFromXml,
  scheduledIdFromXml,
  writeDataMapXml,
  writeJobRequestXml,
} from '../../src/client/xml.js';

const NS =
  'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

describe('dates', () => {
  test('KIE wrapper with millis or ISO, bare millis, ISO strings', () => {
    const ms = 1540385144520;
    assert.equal(readDate({ 'java.util.Date': ms })?.getTime(), ms);
    assert.equal(readDate({ 'java.util.Date': '2018-10-24T12:45:44.520Z' })?.getTime(), ms);
    assert.equal(readDate(ms)?.getTime(), ms);
    assert.equal(readDate(String(ms))?.getTime(), ms);
    assert.equal(readDate('2018-10-24T14:45:44.520+02:00')?.getTime(), ms);
    assert.equal(readDate('2018-10-24T14:45:44.520+0200')?.getTime(), ms, "KIE's format.date pattern");
    assert.equal(readDate('2018-10-24T12:45:44.52Z')?.getTime(), ms);
    assert.equal(readDate(null), null);
    assert.equal(readDate(undefined), null);
    assert.throws(() => readDate({ 'java.util.Date': 'yesterday' }), TypeError);
    assert.throws(() => readDate(true), TypeError);
  });

  test('ISO-8601 variants', () => {
    assert.equal(parseIsoDate('2018-10-20T10:16:51Z')?.getTime(), Date.UTC(2018, 9, 20, 10, 16, 51));
    assert.equal(parseIsoDate('2018-10-20T10:16Z')?.getTime(), Date.UTC(2018, 9, 20, 10, 16));
    assert.equal(
      parseIsoDate('2018-10-20T10:16:51.123456-01:30')?.getTime(),
      Date.UTC(2018, 9, 20, 11, 46, 51, 123),
    );
    assert.equal(parseIsoDate('2018-10-20T10:16:51')?.getTime(), new Date(2018, 9, 20, 10, 16, 51).getTime());
    assert.equal(parseIsoDate('2018-10-20')?.getTime(), new Date(2018, 9, 20).getTime());
    assert.equal(parseIsoDate('not a date'), undefined);
    assert.equal(parseIsoDate('2018-13-01T00:00:00Z'), undefined);
  });
});

describe('JSON documents', () => {
  test("KIE's GET_REQUEST_RESPONSE_JSON sample", () => {
    const job = requestInfoFromJson(
      JSON.parse(`{
        "request-instance-id" : 6, "request-status" : "DONE", "request-business-key" : "job3",
        "request-message" : "Ready to execute", "request-retries" : 5, "request-executions" : 1,
        "request-command" : "org.jbpm.executor.commands.LogCleanupCommand",
        "request-scheduled-date" : { "java.util.Date" : 1540385144520 },
        "request-data" : { "retries" : "5", "businessKey" : "job3", "at" : { "java.util.Date" : 0 },
                           "person" : { "com.acme.Person" : { "name" : "john" } } },
        "response-data" : { "RequestInfoLogsRemoved" : 2 },
        "request-errors" : { "error-info-instance" : [ ] },
        "request-container-id" : null }`),
    );
    assert.deepEqual(job, {
      requestInstanceId: 6,
      requestStatus: 'DONE',
      requestBusinessKey: 'job3',
      requestMessage: 'Ready to execute',
      requestRetries: 5,
      requestExecutions: 1,
      requestCommand: 'org.jbpm.executor.commands.LogCleanupCommand',
      requestScheduledDate: new Date(1540385144520),
      requestData: {
        retries: '5',
        businessKey: 'job3',
        at: new Date(0),
        person: { 'com.acme.Person': { name: 'john' } },
      },
      responseData: { RequestInfoLogsRemoved: 2 },
      requestErrors: { errorInfoInstance: [] },
      requestContainerId: null,
    });
  });

  test('a list with ISO dates and nulls left out (fields=not_null); errors; empty list', () => {
    const list = requestInfoListFromJson({
      'request-info-instance': [
        {
          'request-instance-id': 1,
          'request-status': 'ERROR',
          'request-message': 'Ready to execute',
          'request-retries': 0,
          'request-executions': 1,
          'request-command': 'x',
          'request-scheduled-date': '2018-10-24T02:45:44.520+0200',
          'request-errors': {
            'error-info-instance': [
              {
                'error-instance-id': 3,
                'request-instance-id': 1,
                'error-message': 'boom',
                'error-stacktrace': 'at x',
                'error-date': { 'java.util.Date': 5 },
              },
            ],
          },
        },
      ],
    });
    const [job] = list.requestInfoInstance;
    assert.equal(job?.requestBusinessKey, null);
    assert.equal(job?.requestScheduledDate?.toISOString(), '2018-10-24T00:45:44.520Z');
    assert.deepEqual(job?.requestErrors?.errorInfoInstance, [
      {
        errorInstanceId: 3,
        requestInstanceId: 1,
        errorMessage: 'boom',
        errorStacktrace: 'at x',
        errorDate: new Date(5),
      },
    ]);
    assert.deepEqual(requestInfoListFromJson({ 'request-info-instance': [] }), { requestInfoInstance: [] });
  });

  test('schedule answers and the schedule body', () => {
    assert.equal(scheduledIdFromJson(123), 123);
    assert.equal(scheduledIdFromJson({ value: 123 }), 123);
    assert.throws(() => scheduledIdFromJson('x'), TypeError);
    assert.deepEqual(
      JSON.parse(
        writeJobRequestJson({
          jobCommand: 'org.jbpm.executor.commands.PrintOutCommand',
          scheduledDate: new Date(1540023411655),
          requestData: { businessKey: 'test key', when: new Date(7) },
        }),
      ),
      {
        'job-command': 'org.jbpm.executor.commands.PrintOutCommand',
        'scheduled-date': { 'java.util.Date': 1540023411655 },
        'request-data': { businessKey: 'test key', when: { 'java.util.Date': 7 } },
      },
    );
  });
});

describe('XML documents', () => {
  test("KIE's RequestInfoInstance sample (§4.1): errors, typed data, empty response data", () => {
    const job = requestInfoFromXml(
      parseXml(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<request-info-instance>
    <request-instance-id>7</request-instance-id>
    <request-status>ERROR</request-status>
    <request-business-key>test key</request-business-key>
    <request-message>Ready to execute</request-message>
    <request-retries>0</request-retries>
    <request-executions>1</request-executions>
    <request-command>org.jbpm.executor.commands.LogCleanupCommand</request-command>
    <request-scheduled-date>2018-10-24T14:45:44.520+02:00</request-scheduled-date>
    <request-data>
        <entry>
            <key>businessKey</key>
            <value xsi:type="xs:string" ${NS}>test key</value>
        </entry>
        <entry>
            <key>DateFormat</key>
            <value xsi:type="xs:string" ${NS}>wrong-value</value>
        </entry>
        <entry>
            <key>retries</key>
            <value xsi:type="xs:int" ${NS}>0</value>
        </entry>
    </request-data>
    <response-data/>
    <request-errors>
        <error-info-instance>
            <error-instance-id>3</error-instance-id>
            <request-instance-id>7</request-instance-id>
            <error-message>Illegal pattern character 'r'</error-message>
            <error-stacktrace>java.lang.IllegalArgumentException: Illegal pattern character 'r'
	at …</error-stacktrace>
            <error-date>2018-10-24T14:45:44.601+02:00</error-date>
        </error-info-instance>
    </request-errors>
</request-info-instance>`),
    );
    assert.deepEqual(job, {
      requestInstanceId: 7,
      requestStatus: 'ERROR',
      requestBusinessKey: 'test key',
      requestMessage: 'Ready to execute',
      requestRetries: 0,
      requestExecutions: 1,
      requestCommand: 'org.jbpm.executor.commands.LogCleanupCommand',
      requestScheduledDate: new Date('2018-10-24T12:45:44.520Z'),
      requestData: { businessKey: 'test key', DateFormat: 'wrong-value', retries: 0 },
      responseData: {},
      requestErrors: {
        errorInfoInstance: [
          {
            errorInstanceId: 3,
            requestInstanceId: 7,
            errorMessage: "Illegal pattern character 'r'",
            errorStacktrace: "java.lang.IllegalArgumentException: Illegal pattern character 'r'\n\tat …",
            errorDate: new Date('2018-10-24T12:45:44.601Z'),
          },
        ],
      },
      requestContainerId: null,
    });
  });

  test('lists, empty lists, long-type', () => {
    const list = requestInfoListFromXml(
      parseXml(`<request-info-instance-list>
    <request-info-instance>
        <request-instance-id>1</request-instance-id>
        <request-status>QUEUED</request-status>
        <request-message>Ready to execute</request-message>
        <request-retries>3</request-retries>
        <request-executions>0</request-executions>
        <request-command>a</request-command>
        <request-scheduled-date>2018-10-20T10:16:51.326Z</request-scheduled-date>
        <request-container-id>acme</request-container-id>
    </request-info-instance>
</request-info-instance-list>`),
    );
    assert.equal(list.requestInfoInstance.length, 1);
    assert.equal(list.requestInfoInstance[0]?.requestContainerId, 'acme');
    assert.equal(list.requestInfoInstance[0]?.requestData, null);
    assert.equal(list.requestInfoInstance[0]?.requestErrors, null);
    assert.deepEqual(requestInfoListFromXml(parseXml('<request-info-instance-list/>')), {
      requestInfoInstance: [],
    });
    assert.equal(
      scheduledIdFromXml(
        parseXml(
          '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<long-type>\n    <value>123</value>\n</long-type>',
        ),
      ),
      123,
    );
  });

  test("maps: KIE's VAR_MAP_XML, all value types, nested maps and lists, other prefixes, nil", () => {
    const root = parseXml(`<map-type><entries>
        <entry><key>age</key><value xsi:type="xs:int" ${NS}>25</value></entry>
        <entry><key>big</key><value xsi:type="xs:long" ${NS}>1099511627776</value></entry>
        <entry><key>ok</key><value xsi:type="xs:boolean" ${NS}>true</value></entry>
        <entry><key>ratio</key><value xsi:type="xs:double" ${NS}>2.5E0</value></entry>
        <entry><key>at</key><value xsi:type="xs:dateTime" ${NS}>2018-10-20T10:16:51.326+02:00</value></entry>
        <entry><key>text</key><value xsi:type="s:string" xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="s:string">a &amp; b &#x263A;</value></entry>
        <entry><key>none</key></entry>
        <entry><key>nil</key><value xsi:nil="true" ${NS}/></entry>
        <entry><key>map</key><value xsi:type="jaxbMap" ${NS}><entries><entry><key>k</key><value xsi:type="xs:string">v</value></entry></entries></value></entry>
        <entry><key>list</key><value xsi:type="jaxbList" ${NS}><items><items xsi:type="xs:int">1</items><items xsi:type="xs:string">two</items></items></value></entry>
    </entries></map-type>`);
    assert.deepEqual(readEntries(root.children[0]!), {
      age: 25,
      big: 1099511627776,
      ok: true,
      ratio: 2.5,
      at: new Date('2018-10-20T08:16:51.326Z'),
      text: 'a & b ☺',
      none: null,
      nil: null,
      map: { k: 'v' },
      list: [1, 'two'],
    });
  });

  test('what the client writes reads back the same', () => {
    const data = {
      s: 'x < y & "z"',
      i: 1,
      l: 2 ** 40,
      d: 0.25,
      b: false,
      n: null,
      t: new Date(99),
      m: { a: [1, { b: 'c' }] },
    };
    const map = parseXml(writeDataMapXml(data));
    assert.equal(map.name, 'map-type');
    assert.deepEqual(readEntries(map.children[0]!), data);
    const job = parseXml(
      writeJobRequestXml({ jobCommand: 'c', scheduledDate: new Date(5), requestData: data }),
    );
    assert.equal(job.name, 'job-request-instance');
    assert.deepEqual(
      job.children.map((element) => element.name),
      ['job-command', 'scheduled-date', 'request-data'],
    );
    assert.deepEqual(readEntries(job.children[2]!), data);
  });

  test('a DOCTYPE is refused: entities are never resolved', () => {
    assert.throws(
      () =>
        parseXml(
          '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><long-type><value>&e;</value></long-type>',
        ),
      /DOCTYPE/,
    );
    // An undefined entity stays text; nothing is looked up.
    assert.equal(parseXml('<a>&e;</a>').text, '&e;');
  });
});
