// Logged errors are bounded (issue 27): PostgreSQL's `where` of a deep trigger ran to 170 KB a log line.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { boundedError } from '../../src/observability/bounded-error.js';

describe('bounded errors in logs', () => {
  it('cuts every field of a logged error, its causes included, and keeps the short ones whole', () => {
    const error = Object.assign(new Error('stack depth limit exceeded'), {
      code: '54001',
      where: 'PL/pgSQL function release_children() line 12 at SQL statement\n'.repeat(3000),
      detail: { nested: 'x'.repeat(10_000) },
    });
    error.cause = new Error('y'.repeat(50_000));
    const lines: string[] = [];
    const logger = pino(
      { serializers: { err: boundedError } },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    logger.error({ err: error }, 'releasing children failed');
    const entry = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    assert.ok(lines[0]!.length < 15_000, `one line of ${lines[0]!.length} characters`);
    assert.equal(entry.err.code, '54001');
    assert.match(String(entry.err.message), /^stack depth limit exceeded/);
    assert.match(
      String(entry.err.where),
      /^PL\/pgSQL function release_children\(\).*\(\d+ more characters\)$/s,
    );
    assert.ok(String(entry.err.where).length < 600);
    assert.ok(String(entry.err.detail).length < 600);
    assert.ok(String((entry.err.cause as { message: string }).message).length < 600);
  });
});
