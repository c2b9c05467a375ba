// kjobs/client runs in browsers: no Node.js module and no server code in its import graph (only src/client and
// src/kie, which both sides speak), it bundles for the
// browser platform, and the bundle talks to a real kjobs from headless Chromium (when Debian's chromium is there).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { FAR_FUTURE, PRINT_OUT, startServer } from './server.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const CLIENT = join(SRC, 'client');
/** What the client and the server both speak: the client's only code outside its folder. */
const KIE = join(SRC, 'kie');
const CHROMIUM = '/usr/bin/chromium';
/** The only package the client may import; it is pure JavaScript. */
const ALLOWED_PACKAGES = new Set(['fast-xml-parser']);

function importsOf(file: string): string[] {
  // Comments (TSDoc examples import 'kjobs/client') are not imports.
  const source = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  return [
    ...source.matchAll(
      /(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((match) => (match[1] ?? match[2]) as string);
}

async function bundle(format: 'esm' | 'iife'): Promise<string> {
  const result = await build({
    entryPoints: [join(CLIENT, 'index.ts')],
    bundle: true,
    platform: 'browser',
    format,
    globalName: 'KjobsClient',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('kjobs/client in browsers', () => {
  test('imports only its own files, src/kie and fast-xml-parser; src/kie imports only its own files', () => {
    for (const [folder, allowed] of [
      [CLIENT, ['', '../kie']],
      [KIE, ['']],
    ] as const) {
      const files = readdirSync(folder).filter((name) => name.endsWith('.ts'));
      assert.ok(files.includes('index.ts'));
      for (const name of files) {
        for (const specifier of importsOf(join(folder, name))) {
          if (specifier.startsWith('.')) {
            const target = resolve(folder, specifier);
            const where = relative(folder, dirname(target));
            assert.ok(
              (allowed as readonly string[]).includes(where),
              `${relative(SRC, join(folder, name))} imports ${specifier}, outside ${allowed.map((to) => relative(SRC, join(folder, to))).join(' and ')}`,
            );
            assert.ok(
              existsSync(target.replace(/\.js$/, '.ts')),
              `${name} imports ${specifier}, which is missing`,
            );
          } else {
            assert.ok(
              ALLOWED_PACKAGES.has(specifier),
              `${name} imports ${specifier}: only ${[...ALLOWED_PACKAGES]} may be`,
            );
          }
        }
      }
    }
  });

  test('bundles for the browser platform (a Node.js built-in would fail the build)', async () => {
    const code = await bundle('esm');
    assert.match(code, /KieJobsClient/);
    assert.doesNotMatch(code, /from\s*["']node:/);
  });

  test(
    'runs in headless Chromium against a real kjobs, JSON and XML',
    { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent` },
    async () => {
      const server = await startServer({
        server: { users: [{ name: 'kie', password: 'secret', roles: ['kie-server'] }] },
      });
      const origin = new URL(server.baseUrl).origin;
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
        ],
      });
      after(() => browser.close());
      const page = await browser.newPage();
      const code = await bundle('iife');
      // The page is served by the test, on the server's origin, so that the client's requests are same-origin.
      await page.route(`${origin}/client-test.html`, (route) =>
        route.fulfill({ contentType: 'text/html', body: `<!doctype html><script>${code}</script>` }),
      );
      await page.goto(`${origin}/client-test.html`);
      const results = await page.evaluate(
        async ({ baseUrl, command, due }) => {
          const { KieJobsClient, ApiError } = (
            globalThis as unknown as { KjobsClient: typeof import('../../src/client/index.js') }
          ).KjobsClient;
          const out: Record<string, unknown> = {};
          for (const format of ['json', 'xml'] as const) {
            const client = new KieJobsClient({ baseUrl, format, user: 'kie', password: 'secret' });
            const id = await client.scheduleRequest({
              jobCommand: command,
              scheduledDate: new Date(due),
              requestData: { businessKey: `browser-${format}`, at: new Date(0) },
            });
            const job = await client.getRequestById(id, { withData: true });
            const list = await client.getRequestsByBusinessKey(`browser-${format}`);
            await client.cancelRequest(id);
            // 404, not 401: Chromium answers a 401 carrying WWW-Authenticate: Basic with its own login prompt.
            let status = 0;
            try {
              await client.getRequestById(2 ** 40);
            } catch (error) {
              status = error instanceof ApiError ? error.status : -1;
            }
            out[format] = {
              id,
              scheduled: job.requestScheduledDate instanceof Date ? job.requestScheduledDate.getTime() : null,
              atIsDate: job.requestData?.at instanceof Date,
              listed: list.requestInfoInstance.map((item) => item.requestInstanceId),
              status,
            };
          }
          return out;
        },
        { baseUrl: server.baseUrl, command: PRINT_OUT, due: FAR_FUTURE.getTime() },
      );
      for (const format of ['json', 'xml']) {
        const result = results[format] as {
          id: number;
          scheduled: number;
          atIsDate: boolean;
          listed: number[];
          status: number;
        };
        assert.equal(result.scheduled, FAR_FUTURE.getTime(), format);
        assert.equal(result.atIsDate, true, format);
        assert.deepEqual(result.listed, [result.id], format);
        assert.equal(result.status, 404, format);
        assert.equal((await server.kjobs.get(result.id)).status, 'CANCELLED');
      }
    },
  );
});
