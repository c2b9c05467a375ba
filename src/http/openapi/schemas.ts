/**
 * The JSON Schemas of every route (params, query, body, responses), in Fastify's route-schema form. They document
 * the API: the OpenAPI document (document.ts) is built from them as routes are registered, so it cannot drift from
 * the routes. They do not validate: params.ts and the format readers do that, with KIE's messages and status codes
 * (server.ts installs compilers that accept everything and serialize with JSON.stringify).
 *
 * Models are referenced as `#/components/schemas/<Name>` and defined once in COMPONENT_SCHEMAS.
 */
import { JOB_STATUSES, REQUEST_DATA_KEYS } from '../../core/index.js';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = Record<string, unknown>;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
const xml = (description: string): JsonSchema => ({
  type: 'string',
  contentMediaType: 'application/xml',
  description: `JAXB XML: ${description}`,
});

/** The models KIE's API speaks, in their JSON form (keys as Jackson writes them). */
export const COMPONENT_SCHEMAS: Record<string, JsonSchema> = {
  Date: {
    description:
      'A date: an ISO-8601 string for clients generated from this document (User-Agent Swagger-Codegen/... or ' +
      'OpenAPI-Generator/...) and with --json-dates iso; KIE\'s {"java.util.Date": <epoch ms>} for other clients ' +
      'and with --json-dates kie. Read in either form.',
    anyOf: [
      {
        type: 'object',
        properties: { 'java.util.Date': { type: 'integer' } },
        required: ['java.util.Date'],
        additionalProperties: false,
      },
      { type: 'string', format: 'date-time' },
    ],
  },
  DateInput: {
    description:
      'A date on input: {"java.util.Date": <epoch ms or ISO string>}, epoch milliseconds, or an ISO-8601 string',
    anyOf: [{ type: 'object', minProperties: 1, maxProperties: 1 }, { type: 'integer' }, { type: 'string' }],
  },
  DataMap: {
    type: 'object',
    description: 'Data: names to any JSON values.',
    additionalProperties: true,
  },
  RequestData: {
    type: 'object',
    description:
      "A job's request data: names to any JSON values, for its command. The keys below steer the job (KIE's, " +
      "and kjobs extensions that KIE clients ignore); any other key is the command's own.",
    properties: Object.fromEntries(
      REQUEST_DATA_KEYS.map((entry) => [
        entry.key,
        {
          ...entry.schema,
          description: `${entry.origin === 'KIE' ? "KIE's" : 'kjobs extension'}: ${entry.meaning.replace(/`/g, '')}`,
        },
      ]),
    ),
    additionalProperties: true,
  },
  JobStatus: { type: 'string', enum: [...JOB_STATUSES] },
  ErrorInfoInstance: {
    type: 'object',
    properties: {
      'error-instance-id': { type: 'integer' },
      'request-instance-id': { type: 'integer' },
      'error-message': { type: ['string', 'null'] },
      'error-stacktrace': { type: ['string', 'null'] },
      'error-date': ref('Date'),
    },
    required: ['error-instance-id', 'request-instance-id', 'error-date'],
    additionalProperties: false,
  },
  RequestInfoInstance: {
    type: 'object',
    description: 'One job. Null fields are left out with the media-type parameter fields=not_null.',
    properties: {
      'request-instance-id': { type: 'integer' },
      'request-status': ref('JobStatus'),
      'request-business-key': { type: ['string', 'null'] },
      'request-message': { type: 'string' },
      'request-retries': { type: 'integer', description: 'retries left' },
      'request-executions': { type: 'integer' },
      'request-command': { type: 'string' },
      'request-scheduled-date': ref('Date'),
      'request-data': nullable(ref('RequestData')),
      'response-data': nullable(ref('DataMap')),
      'request-errors': nullable({
        type: 'object',
        properties: { 'error-info-instance': { type: 'array', items: ref('ErrorInfoInstance') } },
        required: ['error-info-instance'],
        additionalProperties: false,
      }),
      'request-container-id': { type: ['string', 'null'] },
    },
    required: [
      'request-instance-id',
      'request-status',
      'request-message',
      'request-retries',
      'request-executions',
      'request-command',
      'request-scheduled-date',
    ],
    additionalProperties: false,
  },
  RequestInfoInstanceList: {
    type: 'object',
    properties: { 'request-info-instance': { type: 'array', items: ref('RequestInfoInstance') } },
    required: ['request-info-instance'],
    additionalProperties: false,
  },
  JobRequestInstance: {
    type: 'object',
    properties: {
      'job-command': { type: 'string', minLength: 1 },
      'scheduled-date': nullable(ref('DateInput')),
      'request-data': nullable(ref('RequestData')),
    },
    required: ['job-command'],
  },
  JobRequestInstanceList: {
    description:
      'A batch (kjobs extension): an array of JobRequestInstance, or {"job-request-instance": [...]}',
    anyOf: [
      { type: 'array', items: ref('JobRequestInstance') },
      {
        type: 'object',
        properties: { 'job-request-instance': { type: 'array', items: ref('JobRequestInstance') } },
        required: ['job-request-instance'],
      },
    ],
  },
  ScheduledId: {
    description: 'The new job id; {"value": id} with the media-type parameter strict=true',
    anyOf: [
      { type: 'integer' },
      {
        type: 'object',
        properties: { value: { type: 'integer' } },
        required: ['value'],
        additionalProperties: false,
      },
    ],
  },
  ScheduledIds: {
    type: 'array',
    items: { type: 'integer' },
    description: 'The new job ids, in request order',
  },
  ServiceResponse: {
    type: 'object',
    description: "KIE's ServiceResponse holding the KieServerInfo",
    properties: {
      type: { const: 'SUCCESS' },
      msg: { type: 'string' },
      result: {
        type: 'object',
        properties: {
          'kie-server-info': {
            type: 'object',
            properties: {
              id: { type: 'string' },
              version: { type: 'string' },
              name: { type: 'string' },
              location: { type: 'string' },
              capabilities: { type: 'array', items: { type: 'string' } },
              messages: { type: 'array', items: ref('KieMessage') },
              mode: { type: 'string' },
            },
            required: ['id', 'version', 'name', 'location', 'capabilities', 'messages', 'mode'],
            additionalProperties: false,
          },
        },
        required: ['kie-server-info'],
        additionalProperties: false,
      },
    },
    required: ['type', 'msg', 'result'],
    additionalProperties: false,
  },
  KieMessage: {
    type: 'object',
    description: "KIE's Message (kie-message)",
    properties: {
      severity: { enum: ['INFO', 'WARN', 'ERROR'] },
      timestamp: ref('Date'),
      content: { type: 'array', items: { type: 'string' } },
    },
    required: ['severity', 'timestamp', 'content'],
    additionalProperties: false,
  },
  KieMessageList: {
    type: 'array',
    items: ref('KieMessage'),
    description: 'The health report: a header (ready or not, uptime), one message per check, a footer',
  },
  KieContainerResource: {
    type: 'object',
    description:
      'A container kjobs has loaded (an ES module, not a kjar: no release ids, scanner or config items). ' +
      '`commands` is a kjobs extension: the commands the container offers (KIE clients ignore it).',
    properties: {
      'container-id': { type: 'string' },
      'release-id': { type: 'null' },
      'resolved-release-id': { type: 'null' },
      status: { const: 'STARTED' },
      scanner: { type: 'null' },
      'config-items': { type: 'array', maxItems: 0 },
      messages: { type: 'array', items: ref('KieMessage') },
      'container-alias': { type: 'string' },
      commands: { type: 'array', items: { type: 'string' } },
    },
    required: ['container-id', 'status', 'messages', 'commands'],
    additionalProperties: false,
  },
  KieContainerResourceListResponse: {
    type: 'object',
    description: "KIE's ServiceResponse holding the KieContainerResourceList",
    properties: {
      type: { const: 'SUCCESS' },
      msg: { const: 'List of created containers' },
      result: {
        type: 'object',
        properties: {
          'kie-containers': {
            type: 'object',
            properties: { 'kie-container': { type: 'array', items: ref('KieContainerResource') } },
            required: ['kie-container'],
            additionalProperties: false,
          },
        },
        required: ['kie-containers'],
        additionalProperties: false,
      },
    },
    required: ['type', 'msg', 'result'],
    additionalProperties: false,
  },
  KieContainerResourceResponse: {
    type: 'object',
    description: "KIE's ServiceResponse holding one KieContainerResource",
    properties: {
      type: { const: 'SUCCESS' },
      msg: { type: 'string' },
      result: {
        type: 'object',
        properties: { 'kie-container': ref('KieContainerResource') },
        required: ['kie-container'],
        additionalProperties: false,
      },
    },
    required: ['type', 'msg', 'result'],
    additionalProperties: false,
  },
  JobLink: {
    type: 'object',
    description: 'A job a job depends on, or that depends on it (kjobs extension)',
    properties: {
      id: { type: 'integer', format: 'int64' },
      status: ref('JobStatus'),
      command: { type: 'string' },
      waiting: { type: 'boolean', description: 'QUEUED and still waiting for parents' },
    },
    required: ['id', 'status', 'command', 'waiting'],
  },
  JobDependencies: {
    type: 'object',
    description:
      "A job's parents (request data dependsOn) and children (jobs that named it; at most 1,000), in id order",
    properties: {
      id: { type: 'integer', format: 'int64' },
      waitingFor: {
        type: 'integer',
        description: 'Parents not yet ended; the job stays QUEUED while above 0',
      },
      parents: { type: 'array', items: ref('JobLink') },
      children: { type: 'array', items: ref('JobLink') },
    },
    required: ['id', 'waitingFor', 'parents', 'children'],
  },
  JobProgress: {
    type: 'object',
    description: "A job's latest progress, as its command reported it with ctx.progress (kjobs extension)",
    properties: {
      id: { type: 'integer', format: 'int64' },
      status: ref('JobStatus'),
      value: { type: ['number', 'null'], minimum: 0, maximum: 100, description: 'Percentage, when reported' },
      data: { anyOf: [ref('DataMap'), { type: 'null' }], description: 'The JSON map reported, if any' },
      updatedAt: { type: ['string', 'null'], format: 'date-time', description: 'When it was reported' },
    },
    required: ['id', 'status', 'value', 'data', 'updatedAt'],
  },
  ErrorMessage: {
    type: 'string',
    description: 'text/plain: the message in double quotes, as KIE answers errors',
  },
  // kjobs extensions for the console (JSON only; times are ISO-8601 strings).
  JobStats: {
    type: 'object',
    description:
      'Jobs finished and waiting over time, from the statistics the executors sample every few seconds',
    properties: {
      range: { enum: ['hour', 'day'] },
      bucketMs: { type: 'integer', description: '60000 (a point per minute) or 3600000 (per hour)' },
      from: { type: 'string', format: 'date-time' },
      to: { type: 'string', format: 'date-time' },
      points: {
        type: 'array',
        description: '60 points (hour) or 24 (day), oldest first; the last one is the current minute or hour',
        items: {
          type: 'object',
          properties: {
            at: { type: 'string', format: 'date-time', description: 'Start of the bucket' },
            done: { type: 'integer', description: 'Jobs that finished DONE in the bucket' },
            error: { type: 'integer', description: 'Jobs that finished ERROR in the bucket' },
            waiting: {
              type: ['integer', 'null'],
              description: 'QUEUED + RETRYING: the highest sample of the bucket; null when nobody sampled it',
            },
          },
          required: ['at', 'done', 'error', 'waiting'],
        },
      },
    },
    required: ['range', 'bucketMs', 'from', 'to', 'points'],
  },
  JobBreakdown: {
    type: 'object',
    properties: {
      by: { enum: ['command', 'container'] },
      since: { type: 'string', format: 'date-time', description: 'Start of the runs window (an hour ago)' },
      rows: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            key: { type: ['string', 'null'], description: 'Command or container id (null: no container)' },
            counts: {
              type: 'object',
              description: 'Jobs per status',
              additionalProperties: { type: 'integer' },
            },
            runs: { type: 'integer', description: 'Attempts that ended in the last hour' },
            failures: { type: 'integer', description: 'Of those, failed' },
            failureRate: { type: ['number', 'null'], description: 'failures / runs' },
            p50Ms: { type: ['integer', 'null'], description: 'Median run duration of the last hour, ms' },
            p95Ms: { type: ['integer', 'null'], description: '95th percentile run duration, ms' },
          },
          required: ['key', 'counts', 'runs', 'failures', 'failureRate', 'p50Ms', 'p95Ms'],
        },
      },
    },
    required: ['by', 'since', 'rows'],
  },
  JobTimeline: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      status: ref('JobStatus'),
      command: { type: 'string' },
      executions: { type: 'integer' },
      createdAt: { type: 'string', format: 'date-time' },
      scheduledAt: { type: 'string', format: 'date-time', description: 'When the job is (or was last) due' },
      startedAt: { type: ['string', 'null'], format: 'date-time', description: 'Start of the latest run' },
      finishedAt: {
        type: ['string', 'null'],
        format: 'date-time',
        description: 'When it became DONE, ERROR or CANCELLED',
      },
      timeline: {
        type: 'array',
        description:
          'In time order: scheduled (dueAt while known), each attempt (startedAt, endedAt, durationMs, outcome ' +
          'DONE, failed or running, error), the cancels and requeues (fromStatus), and the next run (due)',
        items: {
          type: 'object',
          properties: {
            kind: { enum: ['scheduled', 'attempt', 'cancel', 'requeue', 'due'] },
            at: { type: 'string', format: 'date-time' },
          },
          required: ['kind', 'at'],
        },
      },
    },
    required: ['id', 'status', 'createdAt', 'scheduledAt', 'startedAt', 'finishedAt', 'timeline'],
  },
  BulkSelection: {
    type: 'object',
    description:
      'The jobs to act on: "ids", or a filter: "status" (a status or a list; default ERROR to requeue, QUEUED to ' +
      'cancel) and at most one of businessKey, command, containerId, processInstanceId. At most --bulk-limit jobs.',
    properties: {
      ids: { type: 'array', items: { type: 'integer' }, minItems: 1 },
      status: { anyOf: [ref('JobStatus'), { type: 'array', items: ref('JobStatus') }] },
      businessKey: { type: 'string' },
      command: { type: 'string' },
      containerId: { type: 'string' },
      processInstanceId: { type: 'integer' },
    },
    additionalProperties: false,
  },
  BulkResult: {
    type: 'object',
    properties: {
      matched: { type: 'integer', description: 'Jobs the ids named or the filter matched' },
      changed: { type: 'array', items: { type: 'integer' }, description: 'Jobs cancelled or requeued' },
      refused: {
        type: 'array',
        description: 'Jobs left as they were, with the reason',
        items: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            status: { anyOf: [ref('JobStatus'), { type: 'null' }], description: 'null: no such job' },
            reason: { type: 'string' },
          },
          required: ['id', 'status', 'reason'],
        },
      },
    },
    required: ['matched', 'changed', 'refused'],
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Pieces of route schemas

const error = (description: string) => ({
  description,
  content: { 'text/plain': { schema: ref('ErrorMessage') } },
});

/** Errors every KIE route may answer. */
const KIE_ERRORS = {
  400: error('Bad request: a bad parameter or body, with the reason'),
  401: error('No or wrong credentials (when users are configured)'),
  403: error('The user lacks the kie-server (or user) role'),
  406: error('The Accept header allows neither JSON nor XML'),
  415: error('Unsupported Content-Type or X-KIE-ContentType'),
  429: error('Too many failed logins from this address'),
  500: error('Unexpected error'),
  503: error('The job store is unavailable'),
};
/** Errors of the console's extension routes (JSON only). */
const EXTENSION_ERRORS = {
  400: error('Bad request: a bad parameter or body, with the reason'),
  401: error('No or wrong credentials (when users are configured)'),
  403: error('The user lacks the kie-server (or user) role'),
  406: error('The Accept header does not allow JSON'),
  415: error('The body is not JSON'),
  429: error('Too many failed logins from this address'),
};

const BODY_ERRORS = { 413: error('The body is larger than the limit (--body-limit)') };

/** A response with the JSON model and its XML alternative. */
function kieContent(description: string, json: JsonSchema, xmlDescription: string) {
  return {
    description,
    content: { 'application/json': { schema: json }, 'application/xml': { schema: xml(xmlDescription) } },
  };
}

const kieBody = (json: JsonSchema, xmlDescription: string) => ({
  content: { 'application/json': { schema: json }, 'application/xml': { schema: xml(xmlDescription) } },
});

const jobIdParams = {
  type: 'object',
  properties: { jobId: { type: 'integer', format: 'int64', description: 'The job id' } },
  required: ['jobId'],
};
const containerIdQuery = {
  containerId: { type: 'string', description: 'Container (deployment) of the command' },
};
const listQuery = (defaultStatuses: string) => ({
  type: 'object',
  properties: {
    status: {
      type: 'array',
      items: ref('JobStatus'),
      description: `Statuses to include; repeat for several (default: ${defaultStatuses})`,
    },
    page: { type: 'integer', minimum: 0, default: 0 },
    pageSize: { type: 'integer', minimum: 0, default: 10 },
  },
});
const listResponses = {
  200: kieContent(
    'The jobs (without data and errors)',
    ref('RequestInfoInstanceList'),
    '<request-info-instance-list> of <request-info-instance>',
  ),
  ...KIE_ERRORS,
};
const BASIC_AUTH = [{ basicAuth: [] }];
const KIE_TAG = ['KIE jobs'];
const EXTENSION_TAG = ['kjobs extensions'];
const WORKER_TAG = ['kjobs worker protocol'];

/** An operation of the worker protocol on one job: its body, and 200 with the status (or 204), 409 lease lost. */
function workerJobOperation(
  operationId: string,
  summary: string,
  properties: Record<string, JsonSchema>,
  answersStatus = false,
) {
  return {
    operationId,
    summary,
    tags: WORKER_TAG,
    security: BASIC_AUTH,
    params: jobIdParams,
    body: { type: 'object', properties, required: ['lease'] },
    response: {
      ...(answersStatus
        ? {
            200: {
              type: 'object',
              properties: { status: { enum: ['DONE', 'RETRYING', 'ERROR'] } },
              required: ['status'],
            },
          }
        : { 204: { type: 'null', description: 'Done' } }),
      ...EXTENSION_ERRORS,
      403: error("The user may not serve this job's container"),
      404: error('No job has this id'),
      409: error('The job is not held under this lease any more (cancelled, requeued or rescued): drop it'),
      ...BODY_ERRORS,
      ...(answersStatus ? { 413: error('The response data is larger than --max-data-size') } : {}),
    },
  };
}
const OPERATIONS_TAG = ['Operations'];

const list = (operationId: string, summary: string, defaultStatuses: string, params?: JsonSchema) => ({
  operationId,
  summary,
  tags: KIE_TAG,
  security: BASIC_AUTH,
  ...(params ? { params } : {}),
  querystring: listQuery(defaultStatuses),
  response: listResponses,
});

/** Pause and resume of a command or a container (kjobs extensions, issue 17). */
const flowControl = (operationId: string, kind: 'command' | 'container', action: 'pause' | 'resume') => ({
  operationId,
  summary:
    action === 'pause'
      ? `Pause a ${kind} on every node: running jobs finish, none starts (kjobs extension)`
      : `Resume a paused ${kind}: its due jobs start (kjobs extension)`,
  description: 'Kept in the store: it holds across nodes and restarts. Scheduling goes on while paused.',
  tags: EXTENSION_TAG,
  security: BASIC_AUTH,
  params: {
    type: 'object',
    properties: {
      [kind === 'command' ? 'cmd' : 'containerId']: {
        type: 'string',
        description: kind === 'command' ? 'The command name' : 'The container id',
      },
    },
    required: [kind === 'command' ? 'cmd' : 'containerId'],
  },
  response: {
    204: { description: action === 'pause' ? 'Paused (or already paused)' : 'Resumed (or was not paused)' },
    ...KIE_ERRORS,
  },
});

/** The schema of each route, by operation. */
export const ROUTE_SCHEMAS = {
  pauseCommand: flowControl('pauseCommand', 'command', 'pause'),
  resumeCommand: flowControl('resumeCommand', 'command', 'resume'),
  pauseContainer: flowControl('pauseContainer', 'container', 'pause'),
  resumeContainer: flowControl('resumeContainer', 'container', 'resume'),
  listPaused: {
    operationId: 'listPaused',
    summary: 'The paused commands and containers (kjobs extension)',
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    response: {
      200: {
        description: 'What is paused, by kind then name',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['paused'],
              properties: {
                paused: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['kind', 'name', 'pausedAt'],
                    properties: {
                      kind: { type: 'string', enum: ['command', 'container'] },
                      name: { type: 'string' },
                      pausedAt: { type: 'string', format: 'date-time', description: 'When it was paused' },
                    },
                  },
                },
              },
            },
          },
        },
      },
      ...KIE_ERRORS,
    },
  },
  scheduleRequest: {
    operationId: 'scheduleRequest',
    summary: 'Schedule a job',
    tags: KIE_TAG,
    security: BASIC_AUTH,
    querystring: { type: 'object', properties: containerIdQuery },
    body: kieBody(ref('JobRequestInstance'), '<job-request-instance>'),
    response: {
      201: kieContent(
        'Scheduled: the new job id',
        ref('ScheduledId'),
        '<long-type><value>ID</value></long-type>',
      ),
      ...KIE_ERRORS,
      409: error('A unique job with this business key is already active (names it)'),
      ...BODY_ERRORS,
    },
  },
  scheduleRequests: {
    operationId: 'scheduleRequests',
    summary: 'Schedule several jobs atomically (kjobs extension)',
    description:
      'All jobs or none. A refused item is named by its index from 0 (400); a unique conflict answers 409.',
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    querystring: {
      type: 'object',
      properties: { containerId: { type: 'string', description: 'Container of every job of the batch' } },
    },
    body: kieBody(ref('JobRequestInstanceList'), '<job-request-instance-list> of <job-request-instance>'),
    response: {
      201: kieContent(
        'Scheduled: the new job ids, in request order',
        ref('ScheduledIds'),
        '<list-type><items><items xsi:type="xs:long">ID</items>...</items></list-type>',
      ),
      ...KIE_ERRORS,
      409: error('A unique job with a business key of the batch is already active (names it)'),
      ...BODY_ERRORS,
    },
  },
  getJobDependencies: {
    operationId: 'getJobDependencies',
    summary: "A job's parents and children (kjobs extension)",
    description:
      'Request data dependsOn (job ids as a list or comma-separated; in /jobs/batch also "$n" for request n of ' +
      'the batch) makes a job wait, QUEUED, until every parent is DONE. A parent ending ERROR or CANCELLED ' +
      'cancels it, with an error record naming the parent, unless its data says onParentFailure: "run".',
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    params: jobIdParams,
    response: {
      200: { description: 'The links', content: { 'application/json': { schema: ref('JobDependencies') } } },
      ...KIE_ERRORS,
      404: error('No job has this id'),
    },
  },
  getJobProgress: {
    operationId: 'getJobProgress',
    summary: "A job's latest progress (kjobs extension)",
    description:
      'A command reports progress with ctx.progress(value, data); the latest report is stored at most once a ' +
      'second while the job runs, and kept after it ends. All null when none was reported.',
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    params: jobIdParams,
    response: {
      200: { description: 'The progress', content: { 'application/json': { schema: ref('JobProgress') } } },
      ...KIE_ERRORS,
      404: error('No job has this id'),
    },
  },
  getRequestsByStatus: list('getRequestsByStatus', 'Jobs by status, newest first', 'QUEUED'),
  getRequestsByBusinessKey: list(
    'getRequestsByBusinessKey',
    'Jobs with a business key, oldest first',
    'all statuses',
    { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] },
  ),
  getRequestsByCommand: list('getRequestsByCommand', 'Jobs of a command, oldest first', 'all statuses', {
    type: 'object',
    properties: { cmd: { type: 'string' } },
    required: ['cmd'],
  }),
  getRequestsByContainer: list('getRequestsByContainer', 'Jobs of a container, oldest first', 'QUEUED', {
    type: 'object',
    properties: { containerId: { type: 'string' } },
    required: ['containerId'],
  }),
  getRequestsByProcessInstance: list(
    'getRequestsByProcessInstance',
    'Jobs of a process instance, oldest first',
    'QUEUED',
    {
      type: 'object',
      properties: { processInstanceId: { type: 'integer', format: 'int64' } },
      required: ['processInstanceId'],
    },
  ),
  getRequestById: {
    operationId: 'getRequestById',
    summary: 'One job',
    tags: KIE_TAG,
    security: BASIC_AUTH,
    params: jobIdParams,
    querystring: {
      type: 'object',
      properties: {
        withErrors: { type: 'boolean', default: false },
        withData: { type: 'boolean', default: false },
        ...containerIdQuery,
      },
    },
    response: {
      200: kieContent('The job', ref('RequestInfoInstance'), '<request-info-instance>'),
      ...KIE_ERRORS,
      404: error('No job has this id'),
    },
  },
  cancelRequest: {
    operationId: 'cancelRequest',
    summary: 'Cancel a QUEUED, RETRYING or ERROR job',
    tags: KIE_TAG,
    security: BASIC_AUTH,
    params: jobIdParams,
    querystring: { type: 'object', properties: containerIdQuery },
    response: {
      204: { description: 'Cancelled' },
      ...KIE_ERRORS,
      404: error('No job has this id'),
      409: error('The job is RUNNING, DONE or CANCELLED'),
    },
  },
  requeueRequest: {
    operationId: 'requeueRequest',
    summary: 'Put a job that is not DONE or CANCELLED back in the queue',
    tags: KIE_TAG,
    security: BASIC_AUTH,
    params: jobIdParams,
    querystring: { type: 'object', properties: containerIdQuery },
    response: {
      201: { description: 'Requeued (empty body)' },
      ...KIE_ERRORS,
      404: error('No job has this id'),
      409: error('The job is DONE or CANCELLED'),
    },
  },
  updateRequestData: {
    operationId: 'updateRequestData',
    summary: "Merge keys into a QUEUED, RETRYING or ERROR job's request data",
    tags: KIE_TAG,
    security: BASIC_AUTH,
    params: jobIdParams,
    querystring: { type: 'object', properties: containerIdQuery },
    body: kieBody(ref('RequestData'), '<map-type><entries><entry>...</entry></entries></map-type>'),
    response: {
      201: { description: 'Updated (empty body)' },
      ...KIE_ERRORS,
      404: error('No job has this id'),
      ...BODY_ERRORS,
    },
  },
  getServerInfo: {
    operationId: 'getServerInfo',
    summary: "The server's info and capabilities (KIE's Java client reads it on connect)",
    tags: ['KIE server'],
    security: BASIC_AUTH,
    response: {
      200: kieContent(
        'KieServerInfo in a ServiceResponse',
        ref('ServiceResponse'),
        '<response type="SUCCESS">',
      ),
      ...KIE_ERRORS,
    },
  },
  listContainers: {
    operationId: 'listContainers',
    summary:
      'The containers kjobs has loaded (KIE: listContainers), each STARTED, with the commands it offers',
    tags: ['KIE server'],
    security: BASIC_AUTH,
    response: {
      200: kieContent(
        'KieContainerResourceList in a ServiceResponse',
        ref('KieContainerResourceListResponse'),
        '<response type="SUCCESS" msg="List of created containers"><kie-containers>',
      ),
      ...KIE_ERRORS,
    },
  },
  getContainer: {
    operationId: 'getContainer',
    summary: 'One loaded container (KIE: getContainerInfo); 404 when kjobs has no such container',
    tags: ['KIE server'],
    security: BASIC_AUTH,
    params: {
      type: 'object',
      properties: { containerId: { type: 'string', description: 'The container id' } },
      required: ['containerId'],
    },
    response: {
      200: kieContent(
        'KieContainerResource in a ServiceResponse',
        ref('KieContainerResourceResponse'),
        '<response type="SUCCESS"><kie-container>',
      ),
      404: error('No container with this id is loaded'),
      ...KIE_ERRORS,
    },
  },
  readycheck: {
    operationId: 'readycheck',
    summary:
      "KIE Server's readiness probe: 200 once started and the job store answers, else 503 (no authentication)",
    tags: OPERATIONS_TAG,
    response: {
      200: { description: 'Ready (empty text/plain body)' },
      503: { description: 'Starting, stopping, or the job store does not answer (empty body)' },
    },
  },
  healthcheck: {
    operationId: 'healthcheck',
    summary:
      "KIE Server's liveness probe: 200 when no check fails, else 503; with report=true the messages " +
      '(no authentication)',
    tags: OPERATIONS_TAG,
    querystring: {
      type: 'object',
      properties: {
        report: { type: 'boolean', default: false, description: 'Answer the list of check messages' },
      },
    },
    response: {
      200: kieContent(
        'Healthy: the report with report=true (else an empty body)',
        ref('KieMessageList'),
        '<list-type><items><items xsi:type="kie-message">',
      ),
      503: kieContent(
        'A check failed (not started, stopping, the job store does not answer): the report with report=true',
        ref('KieMessageList'),
        '<list-type><items><items xsi:type="kie-message">',
      ),
    },
  },
  health: {
    operationId: 'health',
    summary: 'Liveness: the process serves HTTP (no authentication)',
    tags: OPERATIONS_TAG,
    response: {
      200: {
        description: 'Up',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { status: { const: 'UP' } },
              required: ['status'],
              additionalProperties: false,
            },
          },
        },
      },
    },
  },
  ready: {
    operationId: 'ready',
    summary: 'Readiness: the job store answers (no authentication)',
    tags: OPERATIONS_TAG,
    response: {
      200: {
        description: 'Ready',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { status: { const: 'READY' } },
              required: ['status'],
              additionalProperties: false,
            },
          },
        },
      },
      503: {
        description: 'The job store does not answer',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { status: { const: 'NOT_READY' }, reason: { type: 'string' } },
              required: ['status'],
              additionalProperties: false,
            },
          },
        },
      },
    },
  },
  metrics: {
    operationId: 'metrics',
    summary: 'Prometheus metrics (behind the API users when configured)',
    tags: OPERATIONS_TAG,
    security: BASIC_AUTH,
    response: {
      200: {
        description: 'Prometheus text exposition format',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
      401: error('No or wrong credentials (when users are configured)'),
      403: error('The user lacks the kie-server (or user) role'),
      429: error('Too many failed logins from this address'),
    },
  },
  kieMetrics: {
    operationId: 'kieMetrics',
    summary:
      "KIE Server's Prometheus job metrics (kie_server_job_*, kie_server_start_time) in KIE's text, at KIE's address",
    tags: OPERATIONS_TAG,
    security: BASIC_AUTH,
    response: {
      200: {
        description: 'Prometheus text exposition format, as KIE Server writes it',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
      401: error('No or wrong credentials (when users are configured)'),
      403: error('The user lacks the kie-server (or user) role'),
      429: error('Too many failed logins from this address'),
    },
  },
  openapi: {
    operationId: 'openapi',
    summary: 'This OpenAPI 3.1 document (no authentication)',
    tags: OPERATIONS_TAG,
    response: {
      200: {
        description: 'The OpenAPI document, built from the schemas of the registered routes',
        content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'paths'] } } },
      },
    },
  },
  jobStats: {
    operationId: 'jobStats',
    summary: 'Jobs finished and waiting over the last hour or day (kjobs extension, for charts)',
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    querystring: {
      type: 'object',
      properties: {
        range: { enum: ['hour', 'day'], default: 'hour', description: 'hour: by minute; day: by hour' },
      },
    },
    response: { 200: ref('JobStats'), ...EXTENSION_ERRORS },
  },
  jobBreakdown: {
    operationId: 'jobBreakdown',
    summary:
      'Jobs by command or container: counts per status, runs, failure rate, durations (kjobs extension)',
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    querystring: {
      type: 'object',
      properties: { by: { enum: ['command', 'container'], default: 'command' } },
    },
    response: { 200: ref('JobBreakdown'), ...EXTENSION_ERRORS },
  },
  jobTimeline: {
    operationId: 'jobTimeline',
    summary: "A job's times and timeline: scheduled, attempts, cancels and requeues (kjobs extension)",
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    params: jobIdParams,
    response: { 200: ref('JobTimeline'), ...EXTENSION_ERRORS, 404: error('No job has this id') },
  },
  bulkRequeue: {
    operationId: 'bulkRequeue',
    summary: 'Requeue many jobs in one call: ids, or the ERROR jobs of a filter (kjobs extension)',
    description:
      'One transaction. Jobs in a status requeue does not take, unknown ids and unique jobs whose business key is ' +
      'active are reported in "refused" and left as they are. More than --bulk-limit jobs: 400, nothing changes.',
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    body: ref('BulkSelection'),
    response: {
      200: ref('BulkResult'),
      ...EXTENSION_ERRORS,
      400: error('A bad selection, or more jobs than --bulk-limit (nothing was changed)'),
      403: error('The user lacks the kie-server (or user) role (a viewer may not change jobs)'),
      ...BODY_ERRORS,
    },
  },
  bulkCancel: {
    operationId: 'bulkCancel',
    summary: 'Cancel many jobs in one call: ids, or the QUEUED jobs of a filter (kjobs extension)',
    description:
      'One transaction. Jobs in a status cancel does not take (RUNNING, DONE, CANCELLED) and unknown ids are ' +
      'reported in "refused". More than --bulk-limit jobs: 400, nothing changes.',
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    body: ref('BulkSelection'),
    response: {
      200: ref('BulkResult'),
      ...EXTENSION_ERRORS,
      400: error('A bad selection, or more jobs than --bulk-limit (nothing was changed)'),
      403: error('The user lacks the kie-server (or user) role (a viewer may not change jobs)'),
      ...BODY_ERRORS,
    },
  },
  workerInfo: {
    operationId: 'workerInfo',
    summary: 'Worker protocol: the heartbeat to keep and the remote containers this user may serve',
    description:
      'A worker reads it before it claims: renew held leases at least every heartbeatMs; each container comes with ' +
      'the command patterns of its --remote-container.',
    tags: WORKER_TAG,
    security: BASIC_AUTH,
    response: {
      200: {
        type: 'object',
        properties: {
          heartbeatMs: { type: 'integer' },
          containers: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                commands: { type: 'array', items: { type: 'string' } },
              },
              required: ['id', 'commands'],
            },
          },
        },
        required: ['heartbeatMs', 'containers'],
      },
      ...EXTENSION_ERRORS,
    },
  },
  workerLeave: {
    operationId: 'workerLeave',
    summary: 'Worker protocol: a worker process leaves; the jobs still held under its session go back unrun',
    description:
      'Sent last in a graceful stop, after the worker gave back what it held: a claim whose answer it never read ' +
      '(it stopped waiting as the server answered) leaves jobs under its session, which go back QUEUED, not counted.',
    tags: WORKER_TAG,
    security: BASIC_AUTH,
    body: {
      type: 'object',
      properties: {
        worker: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,100}$' },
        session: { type: 'string', pattern: '^[A-Za-z0-9-]{8,64}$' },
      },
      required: ['worker', 'session'],
    },
    response: {
      200: {
        type: 'object',
        properties: { released: { type: 'integer' } },
        required: ['released'],
      },
      ...EXTENSION_ERRORS,
      ...BODY_ERRORS,
    },
  },
  workerClaim: {
    operationId: 'workerClaim',
    summary: 'Worker protocol: claim due jobs of remote containers, with a long poll (docs/workers.md)',
    description:
      'Answers as soon as a job is due, or after waitMs with no job. Each job comes with its lease: every later ' +
      'call about it carries the lease. Users with the role worker may claim for the containers they are granted.',
    tags: WORKER_TAG,
    security: BASIC_AUTH,
    body: {
      type: 'object',
      properties: {
        worker: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,100}$' },
        session: { type: 'string', pattern: '^[A-Za-z0-9-]{8,64}$' },
        containers: { type: 'array', items: { type: 'string' }, minItems: 1 },
        commands: { type: 'array', items: { type: 'string' }, minItems: 1 },
        max: { type: 'integer', minimum: 1, maximum: 100 },
        waitMs: { type: 'integer', minimum: 0, maximum: 60000 },
      },
      required: ['worker'],
    },
    response: {
      200: {
        type: 'object',
        properties: {
          heartbeatMs: { type: 'integer' },
          jobs: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'integer' },
                command: { type: 'string' },
                containerId: { type: ['string', 'null'] },
                businessKey: { type: ['string', 'null'] },
                processInstanceId: { type: ['integer', 'null'] },
                attempt: { type: 'integer' },
                retries: { type: 'integer' },
                scheduledAt: { type: 'string', format: 'date-time' },
                requestData: ref('RequestData'),
                lease: { type: 'string' },
                leaseExpiresAt: { type: 'string', format: 'date-time' },
                parents: { type: 'array', items: { type: 'object' } },
              },
              required: [
                'id',
                'command',
                'attempt',
                'retries',
                'requestData',
                'lease',
                'leaseExpiresAt',
                'parents',
              ],
            },
          },
        },
        required: ['heartbeatMs', 'jobs'],
      },
      ...EXTENSION_ERRORS,
      403: error('The user may not serve one of these containers, or any'),
      404: error('No remote container of this id'),
      ...BODY_ERRORS,
    },
  },
  workerHeartbeat: {
    operationId: 'workerHeartbeat',
    summary: 'Worker protocol: renew the leases of running jobs; says which are lost or cancelled',
    tags: WORKER_TAG,
    security: BASIC_AUTH,
    body: {
      type: 'object',
      properties: {
        jobs: {
          type: 'array',
          maxItems: 1000,
          items: {
            type: 'object',
            properties: { id: { type: 'integer' }, lease: { type: 'string' } },
            required: ['id', 'lease'],
          },
        },
      },
      required: ['jobs'],
    },
    response: {
      200: {
        type: 'object',
        properties: {
          jobs: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'integer' },
                held: { type: 'boolean' },
                cancelled: { type: 'boolean' },
                leaseExpiresAt: { type: ['string', 'null'], format: 'date-time' },
              },
              required: ['id', 'held', 'cancelled', 'leaseExpiresAt'],
            },
          },
        },
        required: ['jobs'],
      },
      ...EXTENSION_ERRORS,
      ...BODY_ERRORS,
    },
  },
  workerProgress: workerJobOperation('workerProgress', "Worker protocol: report a running job's progress", {
    lease: { type: 'string' },
    value: { type: 'number', minimum: 0, maximum: 100 },
    data: { type: 'object' },
  }),
  workerComplete: workerJobOperation(
    'workerComplete',
    "Worker protocol: end an attempt DONE with its response data (and a recurring job's next run)",
    {
      lease: { type: 'string' },
      responseData: { type: 'object' },
      nextRun: { type: ['string', 'null'], format: 'date-time' },
    },
    true,
  ),
  workerFail: workerJobOperation(
    'workerFail',
    "Worker protocol: end an attempt failed: retried by KIE's rule, or ERROR at once with retry false",
    {
      lease: { type: 'string' },
      message: { type: ['string', 'null'] },
      stacktrace: { type: ['string', 'null'] },
      retry: { type: 'boolean' },
      nextRun: { type: ['string', 'null'], format: 'date-time' },
    },
    true,
  ),
  workerRelease: workerJobOperation('workerRelease', 'Worker protocol: give a claimed job back unrun', {
    lease: { type: 'string' },
  }),
  cancelJob: {
    operationId: 'cancelJob',
    summary: "Cancel a job, a RUNNING one too (kjobs extension; KIE's DELETE refuses RUNNING jobs with 409)",
    description:
      "A RUNNING job ends CANCELLED at once; its command's signal fires (on this node at once, on another at its " +
      "worker's next lease renewal) and its outcome is not written. QUEUED, RETRYING and ERROR jobs are cancelled " +
      'as by DELETE. DONE and CANCELLED jobs: 409.',
    tags: EXTENSION_TAG,
    security: BASIC_AUTH,
    params: jobIdParams,
    response: {
      200: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          status: { const: 'CANCELLED' },
          previousStatus: ref('JobStatus'),
        },
        required: ['id', 'status', 'previousStatus'],
        additionalProperties: false,
      },
      ...EXTENSION_ERRORS,
      403: error('The user lacks the kie-server (or user) role (a viewer may not change jobs)'),
      404: error('No job has this id'),
      409: error('The job has ended (DONE or CANCELLED)'),
    },
  },
} as const;
