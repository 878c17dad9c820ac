import type { Request, RequestHandler } from 'express';
import type { OpenApiSchemas } from '../openapi.js';
import { HttpProblem } from './problem.js';

/** A 400 problem that lists every validation issue (`errors[]` with `path` and `message`). */
export function invalidRequest(
  detail: string,
  errors: readonly { readonly path: string; readonly message: string }[],
): HttpProblem {
  return new HttpProblem(400, 'invalid-request', 'Invalid request', detail, { extensions: { errors } });
}

/**
 * Checks that the request carries a JSON body valid against the OpenAPI component `schema`: 415 when it is not
 * `application/json`, 400 with every issue (JSON pointer + message) when it does not match.
 */
export function jsonBody(schemas: OpenApiSchemas, schema: string): RequestHandler {
  return (req, _res, next) => {
    if (!req.is('application/json')) {
      throw new HttpProblem(
        415,
        'unsupported-media-type',
        'Unsupported media type',
        'Send the body as `Content-Type: application/json`',
      );
    }
    const found = schemas.validate(schema, req.body);
    if (found.length > 0) {
      throw invalidRequest(
        `The body does not match ${schema}`,
        found.map((e) => ({ path: `body${e.path === '/' ? '' : e.path}`, message: e.message })),
      );
    }
    next();
  };
}

/** A page request from `?limit=&cursor=`; 400 on a malformed limit. */
export function pageQuery(req: Request): { limit?: number; cursor?: string } {
  const { limit, cursor } = req.query;
  const page: { limit?: number; cursor?: string } = {};
  if (limit !== undefined) {
    const n = typeof limit === 'string' && /^\d{1,3}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= 100)) {
      throw invalidRequest('`limit` must be an integer from 1 to 100', [
        { path: 'query/limit', message: 'must be an integer from 1 to 100' },
      ]);
    }
    page.limit = n;
  }
  if (cursor !== undefined) {
    if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 512) {
      throw invalidRequest('`cursor` must be the `nextCursor` of a previous page', [
        { path: 'query/cursor', message: 'must be a non-empty string of at most 512 characters' },
      ]);
    }
    page.cursor = cursor;
  }
  return page;
}

/** Longest identifier any resource has; longer ones cannot exist. */
const MAX_ID_LENGTH = 200;

/**
 * A route parameter (`:name`); a route without it is a wiring bug. An identifier no resource can have (control
 * characters, which PostgreSQL refuses in text, or longer than any id) is a 404 here, before any store sees it.
 */
export function pathParam(req: Request, name: string): string {
  const value = (req.params as Record<string, unknown>)[name];
  if (typeof value !== 'string') throw new Error(`route has no :${name} parameter`);
  // eslint-disable-next-line no-control-regex
  if (value.length > MAX_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new HttpProblem(404, 'not-found', 'Not found', `No resource has that ${name}`);
  }
  return value;
}
