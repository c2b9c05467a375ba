// `kjobs serve --login-failures N`: the service limits failed logins per client address as configured.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempFolder } from '../helpers.js';
import { API_PATH, startService } from './service.js';

describe('kjobs serve --login-failures', () => {
  it('answers 429 with Retry-After after N wrong passwords from one address', async () => {
    const service = await startService(['--db', join(tempFolder(), 'login.db'), '--login-failures', '2']);
    const get = (credentials: string) =>
      fetch(`${service.address}${API_PATH}/jobs`, {
        headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
        signal: AbortSignal.timeout(5000),
      });
    assert.equal((await get('ops:pw')).status, 200);
    assert.equal((await get('ops:nope')).status, 401);
    assert.equal((await get('ops:nope')).status, 401);
    const limited = await get('ops:nope');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await get('ops:pw')).status, 429);
    assert.equal((await fetch(`${service.address}/healthz`)).status, 200);

    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0);
    const config = service.lines.find((line) => line.includes('kjobs configuration')) ?? '';
    assert.match(config, /"loginFailures":2/);
    assert.ok(service.lines.some((line) => line.includes('too many failed logins: limited')));
  });
});
