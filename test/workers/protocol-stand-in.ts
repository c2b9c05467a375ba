/**
 * A stand-in for the server side of the worker protocol (docs/workers.md), for testing a worker before the
 * server answers it: it hands out the jobs a test queues, with leases, holds claims as long polls, answers
 * heartbeats and outcome calls as the test scripts them (by default as the protocol says), and records every call.
 * Not a kjobs server: no store, no retries, no schedule. The end-to-end tests run workers against the real one.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export const ROOT_PATH = '/kie-server/services/rest';
const WORKERS = `${ROOT_PATH}/server/kjobs/workers`;

/** A job as a claim answers it. */
export interface ClaimJob {
  id: number;
  command: string;
  containerId?: string | null;
  businessKey?: string | null;
  processInstanceId?: number | null;
  attempt?: number;
  retries?: number;
  requestData?: Record<string, unknown>;
}

/** A call the stand-in received: its path below .../workers, JSON body and Authorization header. */
export interface Call {
  path: string;
  body: Record<string, unknown>;
  authorization: string | undefined;
}

type Answer = [status: number, body?: unknown];

export class WorkerProtocolStandIn {
  readonly calls: Call[] = [];
  heartbeatMs = 300;
  /** What heartbeats say of a job (default: held, not cancelled). */
  readonly leases = new Map<number, { held: boolean; cancelled: boolean }>();
  /** How outcome calls are answered, by path (e.g. `/jobs/7/complete`); by default as the protocol says. */
  readonly outcomeAnswers = new Map<string, Answer>();
  /** Set: every claim is answered so (an error). */
  claimAnswer: Answer | undefined;

  private readonly server: Server;
  private readonly queue: (ClaimJob & { lease: string })[] = [];
  private readonly waiting = new Set<{ max: number; response: ServerResponse; timer: NodeJS.Timeout }>();
  /** The jobs handed out whose outcome is not in yet. */
  private readonly handed = new Map<number, ClaimJob & { lease: string }>();
  private readonly leasesHanded = new Map<number, string>();

  constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  /** Listens on 127.0.0.1 (`port`, or any free one); answers the REST root to give the worker. */
  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}${ROOT_PATH}`;
  }

  close(): Promise<void> {
    for (const claim of this.waiting) clearTimeout(claim.timer);
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Queues a job for the next claim (answering a claim that waits for one at once). */
  enqueue(job: ClaimJob): void {
    this.queue.push({ ...job, lease: randomUUID() });
    for (const claim of this.waiting) {
      this.waiting.delete(claim);
      clearTimeout(claim.timer);
      this.answerClaim(claim.response, claim.max);
      break;
    }
  }

  /** The lease handed out with job `id`. */
  leaseOf(id: number): string | undefined {
    return this.leasesHanded.get(id);
  }

  /** The calls of a path, e.g. `/claim` or `/jobs/7/complete`. */
  callsTo(path: string): Call[] {
    return this.calls.filter((call) => call.path === path);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of request) text += String(chunk);
    const path = (request.url ?? '').startsWith(WORKERS) ? (request.url ?? '').slice(WORKERS.length) : '';
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return send(response, [400, { error: 'the body is not JSON' }]);
    }
    if (request.method !== 'POST' || request.headers['content-type'] !== 'application/json') {
      return send(response, [400, { error: 'POST application/json expected' }]);
    }
    this.calls.push({ path, body, authorization: request.headers.authorization });
    if (path === '/claim') {
      if (this.claimAnswer) return send(response, this.claimAnswer);
      const max = Number(body.max ?? 1);
      if (this.queue.length > 0) return this.answerClaim(response, max);
      const claim = {
        max,
        response,
        timer: setTimeout(
          () => {
            this.waiting.delete(claim);
            this.answerClaim(response, max);
          },
          Number(body.waitMs ?? 0),
        ),
      };
      this.waiting.add(claim);
      // The worker gave up the poll (it is stopping): nothing to answer.
      response.on('close', () => {
        clearTimeout(claim.timer);
        this.waiting.delete(claim);
      });
      return;
    }
    if (path === '/heartbeat') {
      const jobs = (body.jobs as { id: number; lease: string }[]).map(({ id, lease }) => {
        const state = this.leases.get(id) ?? { held: this.handed.get(id)?.lease === lease, cancelled: false };
        return { id, ...state, leaseExpiresAt: new Date(Date.now() + this.heartbeatMs).toISOString() };
      });
      return send(response, [200, { jobs }]);
    }
    const outcome = /^\/jobs\/(\d+)\/(complete|fail|release)$/.exec(path);
    if (outcome) {
      const id = Number(outcome[1]);
      const scripted = this.outcomeAnswers.get(path);
      if (scripted) return send(response, scripted);
      const job = this.handed.get(id);
      if (!job || body.lease !== job.lease) return send(response, [409, { error: `job ${id}: lease lost` }]);
      this.handed.delete(id);
      if (outcome[2] === 'complete') return send(response, [200, { status: 'DONE' }]);
      if (outcome[2] === 'release') return send(response, [204]);
      const retry = body.retry !== false && (job.retries ?? 0) > 0;
      return send(response, [200, { status: retry ? 'RETRYING' : 'ERROR' }]);
    }
    send(response, [404, { error: `no route ${request.method} ${request.url}` }]);
  }

  private answerClaim(response: ServerResponse, max: number): void {
    const jobs = this.queue.splice(0, max).map((job) => {
      this.handed.set(job.id, job);
      this.leasesHanded.set(job.id, job.lease);
      return {
        containerId: 'billing',
        businessKey: null,
        processInstanceId: null,
        attempt: 1,
        retries: 0,
        requestData: {},
        leaseExpiresAt: new Date(Date.now() + this.heartbeatMs).toISOString(),
        parents: [],
        ...job,
      };
    });
    send(response, [200, { heartbeatMs: this.heartbeatMs, jobs }]);
  }
}

function send(response: ServerResponse, [status, body]: Answer): void {
  if (response.writableEnded || response.destroyed) return;
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
