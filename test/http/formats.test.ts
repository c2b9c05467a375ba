// The wire formats and content negotiation, without a server.
process.env.TZ = 'America/New_York';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIsoDate, parseIsoMillis } from '../../src/http/formats/dates.js';
import {
  prettyJson,
  readDataMapJson,
  readJobRequestJson,
  readJsonDate,
} from '../../src/http/formats/json.js';
import { escapeXmlText, parseXml, readDataMapXml, readJobRequestXml } from '../../src/http/formats/xml.js';
import { negotiate } from '../../src/http/negotiation.js';

describe('dates', () => {
  it('formats ISO-8601 in the local zone with a 24-hour clock and an offset', () => {
    // 2018-10-20T18:16:51.326Z is 14:16 in New York (EDT, -04:00): KIE's hh pattern would print 02.
    assert.equal(formatIsoDate(Date.UTC(2018, 9, 20, 18, 16, 51, 326)), '2018-10-20T14:16:51.326-04:00');
    assert.equal(formatIsoDate(Date.UTC(2018, 0, 1, 0, 0, 0, 0)), '2017-12-31T19:00:00.000-05:00');
  });

  it('parses the ISO forms clients send', () => {
    const ms = Date.UTC(2018, 9, 20, 8, 16, 51, 326);
    assert.equal(parseIsoMillis('2018-10-20T10:16:51.326+02:00'), ms);
    assert.equal(parseIsoMillis('2018-10-20T10:16:51.326+0200'), ms);
    assert.equal(parseIsoMillis('2018-10-20T08:16:51.326Z'), ms);
    assert.equal(parseIsoMillis('2018-10-20T08:16:51.326123Z'), ms);
    assert.equal(parseIsoMillis('2018-10-20T04:16:51.326'), ms, 'no offset: local time');
    assert.equal(parseIsoMillis('2018-10-20'), Date.UTC(2018, 9, 20, 4));
    for (const bad of ['2018-02-30T00:00:00Z', '2018-13-01', 'yesterday', '2018-10-20T25:00:00Z', '']) {
      assert.equal(parseIsoMillis(bad), undefined, bad);
    }
  });

  it('reads JSON dates in every accepted form, refuses others', () => {
    assert.equal(readJsonDate({ 'java.util.Date': 1540023411655 }, 'd'), 1540023411655);
    assert.equal(readJsonDate({ 'java.util.Date': '2018-10-20T10:16:51.655+02:00' }, 'd'), 1540023411655);
    assert.equal(readJsonDate(1540023411655, 'd'), 1540023411655);
    assert.equal(readJsonDate('1540023411655', 'd'), 1540023411655);
    assert.equal(readJsonDate('2018-10-20T08:16:51.655Z', 'd'), 1540023411655);
    assert.equal(readJsonDate(null, 'd'), null);
    assert.throws(() => readJsonDate({ 'java.util.Date': 1, other: 2 }, 'd'), /must be a date/);
    assert.throws(() => readJsonDate(true, 'd'), /not a valid date/);
    assert.throws(() => readJsonDate(1.5, 'd'), /not a valid date/);
  });
});

describe('JSON', () => {
  it('pretty-prints as Jackson: " : ", two spaces, inline arrays, { } and [ ]', () => {
    const text = prettyJson({ a: 1, b: [1, { c: null }], d: {}, e: [], f: 'x"y' });
    assert.equal(
      text,
      '{\n  "a" : 1,\n  "b" : [ 1, {\n    "c" : null\n  } ],\n  "d" : { },\n  "e" : [ ],\n  "f" : "x\\"y"\n}',
    );
  });

  it('reads a JobRequestInstance, ignoring unknown keys, normalizing date wrappers inside data', () => {
    const request = readJobRequestJson(
      JSON.stringify({
        'job-command': 'c',
        'scheduled-date': null,
        'request-data': {
          at: { 'java.util.Date': '2018-10-20T08:16:51.655Z' },
          n: [{ 'java.util.Date': 5 }],
        },
        unknown: true,
      }),
    );
    assert.deepEqual(request, {
      command: 'c',
      scheduledAt: null,
      data: { at: { 'java.util.Date': 1540023411655 }, n: [{ 'java.util.Date': 5 }] },
    });
    assert.deepEqual(readDataMapJson('{"a": {"b": 1}}'), { a: { b: 1 } });
  });
});

describe('XML', () => {
  const NS =
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

  it('resolves xsi and xs prefixes by namespace, whatever the prefixes are', () => {
    const body = `<map-type xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:s="http://www.w3.org/2001/XMLSchema">
      <entries>
        <entry><key>a</key><value i:type="s:int">7</value></entry>
        <entry><key>b</key><value i:type="s:boolean">false</value></entry>
        <entry><key>c</key><value i:nil="true"/></entry>
        <entry><key>d</key><value>untyped text</value></entry>
        <entry><key>e</key><value i:type="s:string"><![CDATA[<raw & text>]]></value></entry>
      </entries>
    </map-type>`;
    assert.deepEqual(readDataMapXml(body), { a: 7, b: false, c: null, d: 'untyped text', e: '<raw & text>' });
  });

  it('reads every value type, and refuses values that do not match their type', () => {
    const entry = (type: string, value: string) =>
      `<map-type><entries><entry><key>k</key><value xsi:type="${type}" ${NS}>${value}</value></entry></entries></map-type>`;
    assert.deepEqual(readDataMapXml(entry('xs:long', '-12')), { k: -12 });
    assert.deepEqual(readDataMapXml(entry('xs:double', '1.5E3')), { k: 1500 });
    assert.deepEqual(readDataMapXml(entry('xs:dateTime', '2018-10-20T08:16:51.655Z')), {
      k: { 'java.util.Date': 1540023411655 },
    });
    assert.throws(() => readDataMapXml(entry('xs:int', '1.5')), /not a whole number/);
    assert.throws(() => readDataMapXml(entry('xs:boolean', 'yes')), /not a boolean/);
    assert.throws(() => readDataMapXml(entry('xs:double', 'INF')), /not a finite number/);
    assert.throws(() => readDataMapXml(entry('xs:dateTime', 'now')), /not an xs:dateTime/);
    assert.throws(() => readDataMapXml(entry('xs:base64Binary', 'AA==')), /unsupported xsi:type/);
  });

  it('decodes the five entities and character references, refuses others, DOCTYPEs and several roots', () => {
    const request = readJobRequestXml(
      '<job-request-instance><job-command>a&amp;b&#65;&#x42;&lt;&gt;&quot;&apos;</job-command></job-request-instance>',
    );
    assert.equal(request.command, 'a&bAB<>"\'');
    assert.equal(request.scheduledAt, null);
    assert.deepEqual(request.data, {});
    assert.throws(() => parseXml('<a>&ext;</a>'), /undefined entity/);
    assert.throws(() => parseXml('<!DOCTYPE a SYSTEM "http://evil/x.dtd"><a/>'), /DOCTYPE is refused/);
    assert.throws(() => parseXml('<a/><b/>'), /exactly one root/);
    assert.throws(() => parseXml('<a><b></a>'), /Malformed XML/);
    assert.throws(() => parseXml('   '), /no body/);
  });

  it('refuses data nested too deep and numbers it cannot store; keeps __proto__ as a plain key', () => {
    let deepJson = '1';
    for (let i = 0; i < 1000; i++) deepJson = `[${deepJson}]`;
    assert.throws(() => readDataMapJson(`{"a": ${deepJson}}`), /nests deeper than 100 levels/);
    assert.throws(() => readDataMapJson('{"a": 1e400}'), /numbers must be finite/);
    let deepXml = 'v';
    for (let i = 0; i < 1000; i++) deepXml = `<a>${deepXml}</a>`;
    assert.throws(() => readDataMapXml(`<map-type>${deepXml}</map-type>`), /nest/);
    const map = readDataMapXml(
      `<map-type><entries><entry><key>__proto__</key><value xsi:type="xs:string" ${NS}>x</value></entry></entries></map-type>`,
    );
    assert.equal(Object.getPrototypeOf(map), Object.prototype);
    assert.deepEqual(Object.keys(map), ['__proto__']);
    assert.equal(JSON.stringify(map), '{"__proto__":"x"}');
  });

  it('ignores a byte order mark', () => {
    assert.equal(
      readJobRequestXml(
        '\uFEFF<?xml version="1.0"?><job-request-instance><job-command>c</job-command></job-request-instance>',
      ).command,
      'c',
    );
    assert.equal(readJobRequestJson('\uFEFF{"job-command": "c"}').command, 'c');
  });

  it('escapes what XML text cannot hold', () => {
    assert.equal(escapeXmlText('a<b>&c\r\u0001'), 'a&lt;b&gt;&amp;c&#13;\uFFFD');
  });
});

describe('negotiation', () => {
  const format = (headers: Parameters<typeof negotiate>[0]) => negotiate(headers).format;

  it('is XML by default and for */*, JSON when asked, XML on a tie', () => {
    assert.equal(format({}), 'xml');
    assert.equal(format({ accept: '*/*' }), 'xml');
    assert.equal(format({ accept: 'application/json' }), 'json');
    assert.equal(format({ accept: 'application/json, application/xml' }), 'xml');
    assert.equal(format({ accept: 'application/xml;q=0.5, application/json' }), 'json');
    assert.equal(
      format({ accept: 'application/json, text/plain, */*' }),
      'json',
      'the specific range wins over */*',
    );
    assert.equal(
      format({ accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }),
      'xml',
    );
  });

  it('lets Content-Type override Accept, and X-KIE-ContentType override both', () => {
    assert.equal(
      format({ accept: 'application/xml', contentType: 'application/json; charset=utf-8' }),
      'json',
    );
    assert.equal(
      format({ accept: 'application/json', contentType: 'application/json', kieContentType: 'JAXB' }),
      'xml',
    );
    assert.equal(format({ kieContentType: 'json' }), 'json');
  });

  it('reads strict=true and fields=not_null', () => {
    assert.deepEqual(negotiate({ accept: 'application/json;strict=true' }), {
      format: 'json',
      strict: true,
      omitNulls: false,
    });
    assert.deepEqual(negotiate({ kieContentType: 'JSON;fields=not_null' }), {
      format: 'json',
      strict: false,
      omitNulls: true,
    });
  });

  it('refuses XSTREAM and unknown formats with 415, unacceptable Accept with 406', () => {
    assert.throws(() => negotiate({ kieContentType: 'XSTREAM' }), { statusCode: 415 });
    assert.throws(() => negotiate({ contentType: 'application/xstream' }), { statusCode: 415 });
    assert.throws(() => negotiate({ contentType: 'text/csv' }), { statusCode: 415 });
    assert.throws(() => negotiate({ accept: 'image/png' }), { statusCode: 406 });
    assert.throws(() => negotiate({ accept: 'application/json;q=0' }), { statusCode: 406 });
  });
});
