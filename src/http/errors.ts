/**
 * The one place where failures become HTTP answers. KIE answers errors with `text/plain` bodies holding the
 * message in double quotes (`"Request with id: 5 doesn't exist"`); kjobs does the same, with kjobs' precise
 * status codes where KIE answers 500 or nothing.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  DuplicateJobError,
  InvalidStateError,
  JobNotFoundError,
  StoreUnavailableError,
  UnknownFlowTargetError,
  ValidationError,
  type JobEvent,
} from '../core/index.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** A failure the HTTP layer itself decides (negotiation, authentication...), with its status code. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Status of a refused state change: KIE's 400 for data updates, 409 for cancel and requeue (kjobs). */
const INVALID_STATE_STATUS: Partial<Record<JobEvent, number>> = { updateData: 400 };

export interface ErrorAnswer {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** Maps any error to its answer. Unexpected errors give 500 and their message, never a stack trace. */
function errorAnswer(error: unknown, bodyLimit: number): ErrorAnswer {
  if (error instanceof HttpError)
    return { status: error.statusCode, message: error.message, headers: error.headers };
  if (error instanceof JobNotFoundError || error instanceof UnknownFlowTargetError)
    return { status: 404, message: error.message };
  if (error instanceof InvalidStateError)
    return { status: INVALID_STATE_STATUS[error.event] ?? 409, message: error.message };
  if (error instanceof DuplicateJobError) return { status: 409, message: error.message };
  if (error instanceof ValidationError) return { status: 400, message: error.message };
  if (error instanceof StoreUnavailableError) {
    return { status: 503, message: `The job store is unavailable, try again later: ${error.message}` };
  }
  const fastifyError = error as Partial<FastifyError> | undefined;
  switch (fastifyError?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: `The request body is larger than the limit of ${bodyLimit} bytes` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: 'Unsupported Content-Type: send application/json or application/xml' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, message: 'The request body does not match its Content-Length' };
    default:
      break;
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, message: fastifyError?.message ?? 'Bad request' };
  }
  const message = error instanceof Error ? error.message : String(error);
  // KIE's wording and trailing line break (RestUtils.errorMessage, 7.23+).
  return { status: 500, message: `Unexpected error during processing: ${message}\n` };
}

/** KIE's error body: the message in double quotes, as text/plain. */
export function quoted(message: string): string {
  return `"${message}"`;
}

/**
 * A whole HTTP/1.1 error answer for a raw socket (what Node refuses before Fastify has a request), in KIE's error
 * format with the security headers; the connection is closed after it.
 */
export function rawErrorAnswer(status: number, message: string): string {
  const body = quoted(message);
  const headers = Object.entries({ ...SECURITY_HEADERS, 'cache-control': 'no-store' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Fastify error handler: logs what is unexpected, answers everything in KIE's error format. */
export function makeErrorHandler(bodyLimit: number) {
  return function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const answer = errorAnswer(error, bodyLimit);
    if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ status: answer.status, reason: answer.message }, 'request refused');
    return sendError(reply, answer);
  };
}

export function sendError(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
  return reply
    .code(answer.status)
    .header('content-type', 'text/plain; charset=utf-8')
    .send(quoted(answer.message));
}
