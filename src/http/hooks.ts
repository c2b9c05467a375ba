/**
 * Request hooks shared by the KIE routes: content negotiation, and the conversation id KIE echoes. They run on
 * every request, so they are synchronous (a callback, no promise) and remember what they worked out before.
 */
import type { DoneFuncWithErrOrRes, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import { negotiate, type Negotiation } from './negotiation.js';

const CONVERSATION_ID = 'x-kie-conversationid';
const negotiations = new WeakMap<FastifyRequest, Negotiation>();
/** Negotiations by their three headers: a client sends the same ones on every request. Bounded. */
const negotiated = new Map<string, Negotiation>();
const MAX_NEGOTIATED = 256;

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
export function negotiationHook(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: DoneFuncWithErrOrRes,
): void {
  const contentType = header(request, 'content-type');
  // A body without a type is what a browser sends for another site's `fetch(..., {mode: 'no-cors', body: blob})`
  // or `sendBeacon`: KIE's clients always name the type, so refuse it rather than guess XML (CSRF).
  if ((contentType === undefined || contentType.trim() === '') && hasBody(request)) {
    done(
      new HttpError(
        415,
        'The request has a body but no Content-Type: send Content-Type application/json or application/xml',
      ),
    );
    return;
  }
  const accept = header(request, 'accept');
  const kieContentType = header(request, 'x-kie-contenttype');
  const key = `${accept}\n${contentType}\n${kieContentType}`;
  let negotiation = negotiated.get(key);
  if (negotiation === undefined) {
    try {
      negotiation = Object.freeze(negotiate({ accept, contentType, kieContentType }));
    } catch (error) {
      done(error as Error);
      return;
    }
    if (negotiated.size >= MAX_NEGOTIATED) negotiated.clear();
    negotiated.set(key, negotiation);
  }
  negotiations.set(request, negotiation);
  done();
}

/** The format negotiated for this request (XML when the hook did not run, as KIE's default). */
export function negotiationOf(request: FastifyRequest): Negotiation {
  return negotiations.get(request) ?? { format: 'xml', strict: false, omitNulls: false };
}

/** onRequest hook: KIE echoes the client's X-KIE-ConversationId on every answer. */
export function conversationIdHook(
  request: FastifyRequest,
  reply: FastifyReply,
  done: DoneFuncWithErrOrRes,
): void {
  const conversation = header(request, CONVERSATION_ID);
  if (conversation !== undefined) reply.header('X-KIE-ConversationId', conversation);
  done();
}
