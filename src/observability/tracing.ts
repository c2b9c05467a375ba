/**
 * OpenTelemetry tracing with `@opentelemetry/api` only: spans go to whatever SDK the application registered, and
 * cost nothing when none is (the API's no-op tracer). A schedule is a span; the W3C traceparent of that span is
 * stored with each job, so every run of the job (and its callbacks) is a span of the same trace, on any node.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { KJOBS_VERSION } from '../version.js';

/** The tracer of kjobs (instrumentation scope `kjobs`). */
export function tracer() {
  return trace.getTracer('kjobs', KJOBS_VERSION);
}

/** Attribute names of kjobs' spans. */
export const ATTRIBUTES = {
  jobId: 'kjobs.job.id',
  jobIds: 'kjobs.job.ids',
  command: 'kjobs.job.command',
  container: 'kjobs.job.container',
  attempt: 'kjobs.job.attempt',
  outcome: 'kjobs.job.outcome',
  jobs: 'kjobs.schedule.jobs',
  callback: 'kjobs.callback',
} as const;

/** The context of W3C trace headers (`traceparent`, `tracestate`), e.g. an HTTP request's; else the active one. */
export function contextFromHeaders(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
}

/** The W3C traceparent of `span` (as the registered propagator writes it), or null without an SDK. */
export function traceParentOf(span: Span): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier.traceparent ?? null;
}

/** The context a job's runs start from: its stored traceparent, or none. */
export function contextOfJob(traceParent: string | null | undefined): Context {
  if (!traceParent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent: traceParent });
}

/** Runs `work` in a span that ends with it; a thrown error is recorded on the span and rethrown. */
export async function inSpan<T>(
  name: string,
  options: {
    kind?: SpanKind;
    attributes?: Record<string, string | number | boolean | number[]>;
    parent?: Context;
  },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Records an error on a span and marks it failed. */
export function recordError(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

export { SpanKind };
