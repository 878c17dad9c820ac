import type { ErrorRequestHandler, Response } from 'express';
import { brand, hasBrand, reportError } from '@ballast/core';

const kind = Symbol.for('ballast.retailflow.HttpProblem');

/** The members of an RFC 9457 problem details object that RetailFlow sends. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

/** Where RetailFlow's problem types are documented (each `type` is this base plus a slug). */
export const PROBLEM_BASE = 'https://ballast.dev/retailflow/problems/';

/**
 * An error that becomes an RFC 9457 `application/problem+json` response. Route handlers throw it; the error
 * middleware ({@link problemHandler}) renders it. `headers` are copied onto the response (e.g. `Retry-After`).
 *
 * @example
 * ```ts
 * throw new HttpProblem(404, 'not-found', 'Order not found', `No order ${id} for this tenant`);
 * ```
 */
export class HttpProblem extends Error {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    slug: string,
    title: string,
    detail?: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpProblem';
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
    brand(this, kind);
  }

  /** The problem details body for this error. */
  toBody(instance?: string): ProblemBody {
    return {
      ...this.extensions,
      type: PROBLEM_BASE + this.slug,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(instance === undefined ? {} : { instance }),
    };
  }
}

/** True when `value` is an {@link HttpProblem} (works across copies of the module). */
export function isHttpProblem(value: unknown): value is HttpProblem {
  return hasBrand(value, kind);
}

/** Sends `problem` as `application/problem+json`. */
export function sendProblem(res: Response, problem: HttpProblem, instance?: string): void {
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.status(problem.status).type('application/problem+json').json(problem.toBody(instance));
}

interface BodyParserError {
  readonly type?: string;
  readonly status?: number;
  readonly expose?: boolean;
  readonly message?: string;
  readonly limit?: number;
}

/**
 * Maps the errors express and its body parser raise for bad client input to a problem a client can act on: each
 * carries a 4xx `status` (http-errors) and often a `type`. Known types get their own problem; any other 4xx
 * (a gzip header on a body that is not gzip, a path with `%ff`, a request aborted mid-body) is a 400-class
 * problem with a generic message, never a 500. Messages of unknown errors are not echoed.
 */
function fromParserError(error: BodyParserError): HttpProblem | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new HttpProblem(
        413,
        'body-too-large',
        'Request body too large',
        `The request body exceeds the limit of ${String(error.limit)} bytes`,
      );
    case 'entity.parse.failed':
      return new HttpProblem(400, 'malformed-json', 'Malformed JSON', 'The request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem(415, 'unsupported-encoding', 'Unsupported encoding', error.message);
    case 'request.aborted':
      return new HttpProblem(
        400,
        'request-aborted',
        'Request aborted',
        'The client closed the request before its body ended',
      );
    case 'request.size.invalid':
      return new HttpProblem(
        400,
        'invalid-body-length',
        'Invalid body length',
        'The body length does not match `Content-Length`',
      );
    default:
      break;
  }
  const status = error.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (error.type === undefined && error.message?.startsWith('Failed to decode param')) {
      return new HttpProblem(
        400,
        'invalid-path',
        'Invalid path',
        'The path is not valid percent-encoded UTF-8',
      );
    }
    return new HttpProblem(
      status === 413 || status === 415 || status === 408 ? status : 400,
      'unreadable-body',
      'Unreadable request',
      'The request could not be read (check `Content-Encoding`, `Content-Length` and the body)',
    );
  }
  return undefined;
}

/**
 * The last middleware: renders {@link HttpProblem}s and body-parser errors as problem details, and any other
 * error as a 500 that says nothing about internals (the error itself goes to `onUnexpected`).
 */
export function problemHandler(
  onUnexpected: (error: unknown) => void,
  translate: (error: unknown) => HttpProblem | undefined = () => undefined,
): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    let problem: HttpProblem | undefined;
    if (isHttpProblem(error)) problem = error;
    else problem = translate(error);
    if (!problem && typeof error === 'object' && error !== null) {
      problem = fromParserError(error);
    }
    if (!problem) {
      try {
        onUnexpected(error);
      } catch (thrown) {
        reportError(thrown, 'retailflow: error logger threw');
      }
      problem = new HttpProblem(
        500,
        'internal',
        'Internal server error',
        'The request could not be completed',
      );
    }
    sendProblem(res, problem, req.originalUrl);
  };
}
