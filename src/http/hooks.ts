/** Request hooks shared by the KIE routes: content negotiation, and the conversation id KIE echoes. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { negotiate, type Negotiation } from './negotiation.js';

const CONVERSATION_ID = 'x-kie-conversationid';
const negotiations = new WeakMap<FastifyRequest, Negotiation>();

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * onRequest hook: decides the format before the body is read, so a refused media type (406, 415) costs nothing.
 */
export async function negotiationHook(request: FastifyRequest): Promise<void> {
  negotiations.set(
    request,
    negotiate({
      accept: header(request, 'accept'),
      contentType: header(request, 'content-type'),
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
