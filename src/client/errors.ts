/** What the client throws. */

/**
 * The server answered with an error status (or with a body the client cannot read). KIE servers answer errors as
 * `text/plain` holding the message in double quotes (`"Request with id: 5 doesn't exist"`); `message` is that text
 * without the quotes.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  /** The HTTP status: 404 unknown job, 409 wrong state (kjobs), 400 refused input, 401 bad credentials... */
  readonly status: number;
  /** The raw body of the answer. */
  readonly body: string;
  /** The headers of the answer. */
  readonly headers: Headers;
  /** The request that failed, e.g. `GET http://localhost:8080/.../server/jobs/5`. */
  readonly request: string;

  /** Builds the error of an answer; `message` defaults to the body's text without KIE's quotes. */
  constructor(options: {
    status: number;
    body: string;
    headers: Headers;
    request: string;
    message?: string;
  }) {
    super(options.message ?? (unquote(options.body) || `HTTP ${options.status}`));
    this.status = options.status;
    this.body = options.body;
    this.headers = options.headers;
    this.request = options.request;
  }
}

/** The server could not be reached, or did not answer in time (`timedOut`). `cause` holds the fetch error. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  /** True when the client's timeout ran out. */
  readonly timedOut: boolean;
  /** The request that failed. */
  readonly request: string;

  /** Builds the error; `cause` is what fetch threw. */
  constructor(message: string, options: { request: string; timedOut: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.timedOut = options.timedOut;
    this.request = options.request;
  }
}

/** KIE's error text: the body without its surrounding double quotes and trailing line break. */
function unquote(body: string): string {
  const text = body.trim();
  const inner = text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
  return inner.trim();
}
