/** Request hooks shared by the KIE routes: content negotiation, and the conversation id KIE echoes. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import { negotiate, type Negotiation } from './negotiation.js';

const CONVERSATION_ID = 'x-kie-conversationid';
const negotiations = new WeakMap<FastifyRequest, Negotiation>();

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * onRequest hook: decides the format before the body is read, so a refused media type (406, 415) costs nothing.
 */
export async function negotiationHook(request: FastifyRequest): Promise<void> {
  const contentType = header(request, 'content-type');
  // A body without a type is what a browser sends for another site's `fetch(..., {mode: 'no-cors', body: blob})`
  // or `sendBeacon`: KIE's clients always name the type, so refuse it rather than guess XML (CSRF).
  if ((contentType === undefined || contentType.trim() === '') && hasBody(request)) {
    throw new HttpError(
      415,
      'The request has a body but no Content-Type: send Content-Type application/json or application/xml',
    );
  }
  negotiations.set(
    request,
    negotiate({
      accept: header(request, 'accept'),
      contentType,
      kieContentType: header(request, 'x-kie-contenttype'),
    }),
  );
}

/** The format negotiated for this request (XML when the hook did not run, as KIE's default). */
export function negotiationOf(request: FastifyRequest): Negotiation {
  return negotiations.get(request) ?? { format: 'xml', strict: false, omitNulls: false };
}

/** onSend hook: KIE echoes the client's X-KIE-ConversationId on every answer. */
export async function conversationIdHook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const conversation = header(request, CONVERSATION_ID);
  if (conversation !== undefined && !reply.hasHeader(CONVERSATION_ID))
    reply.header('X-KIE-ConversationId', conversation);
}
