/**
 * The web console: a small framework-free page at `/console` that uses the KIE jobs API with the browser's own
 * basic-auth credentials. This plugin serves its files (from `dist/console` once built, else `console/public`),
 * redirects `/` to it, and adds the one thing KIE's API lacks, the counts per status (`/console/api/counts`).
 * Files and counts sit behind the API's authentication, so the browser asks for credentials once, on the page.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { Kjobs } from '../kjobs.js';

const CONSOLE_PATH = '/console';

export interface ConsoleOptions {
  kjobs: Kjobs;
  /** The API's authentication hook (a no-op when no users are configured). */
  auth: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** Folder of the console's files; default: `dist/console` when it exists, else `console/public`. */
  root?: string;
}

/** `dist/console` beside the compiled module, else the sources' `console/public`. */
function consoleRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url)); // src/http or dist/http
  const built = join(here, '..', 'console');
  if (existsSync(join(built, 'index.html'))) return built;
  return join(here, '..', '..', 'console', 'public');
}

/** Not part of the KIE API: left out of the OpenAPI document. */
const HIDDEN: FastifySchema & { hide: boolean } = { hide: true };

export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const root = options.root ?? consoleRoot();

  app.get('/', { schema: HIDDEN }, async (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`, 302));

  await app.register(async (scope) => {
    scope.addHook('onRequest', options.auth);
    scope.get(`${CONSOLE_PATH}/api/counts`, { schema: HIDDEN }, async (_request, reply) =>
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(await options.kjobs.countByStatus())),
    );
    await scope.register(fastifyStatic, {
      root,
      prefix: `${CONSOLE_PATH}/`,
      index: false,
      wildcard: true,
      decorateReply: true, // reply.sendFile, in this scope only
      maxAge: 0,
    });
    // `/console` and `/console/` (the router ignores trailing slashes) are the page itself.
    scope.get(CONSOLE_PATH, { schema: HIDDEN }, (_request, reply) => reply.sendFile('index.html'));
  });
}
