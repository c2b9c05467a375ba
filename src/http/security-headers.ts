/**
 * Security headers on every answer, the KIE API, errors, health, metrics and the console alike. The content
 * security policy lets pages load only their own scripts, styles and images (the console serves its own) and
 * forbids framing; API answers are not cached (`no-store`) unless a route set its own Cache-Control (static files).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

/** onSend hook: adds the security headers, and `Cache-Control: no-store` where no route chose caching. */
export async function securityHeadersHook(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (!reply.hasHeader(name)) reply.header(name, value);
  }
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}
