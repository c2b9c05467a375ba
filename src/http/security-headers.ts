/**
 * Security headers on every answer, the KIE API, errors, health, metrics and the console alike. The content
 * security policy lets pages load only their own scripts, styles and images (the console serves its own) and
 * forbids framing; API answers are not cached (`no-store`) unless a route set its own Cache-Control (static files).
 */
import type { DoneFuncWithErrOrRes, FastifyReply, FastifyRequest } from 'fastify';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

/** What every answer carries unless its route says otherwise. */
const ON_EVERY_ANSWER: Readonly<Record<string, string>> = Object.freeze({
  ...SECURITY_HEADERS,
  'cache-control': 'no-store',
});

/**
 * onRequest hook: the security headers and `Cache-Control: no-store`, set before anything can answer (errors
 * keep them); a route that chooses caching (the console's static files) sets its own Cache-Control later.
 */
export function securityHeadersHook(
  _request: FastifyRequest,
  reply: FastifyReply,
  done: DoneFuncWithErrOrRes,
): void {
  reply.headers(ON_EVERY_ANSWER);
  done();
}
