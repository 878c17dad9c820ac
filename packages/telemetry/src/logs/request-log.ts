import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeOf } from '../http/route-capture.js';
import { type HttpLogLevel, httpLogLevel } from './http-log-level.js';

/** Options for {@link requestLogOptions}. */
export interface RequestLogOptions {
  /**
   * The tenant of a request, read when its response is written (after authentication ran); `undefined` for none.
   * @default undefined (no `tenant` field)
   * @example
   * ```ts
   * requestLogOptions({ tenant: (req) => tenantOf(req)?.id });
   * ```
   */
  readonly tenant?: (req: IncomingMessage) => string | undefined;
  /**
   * Header carrying the caller's request id, used when it is a plain token (letters, digits, `.`, `_`, `:`, `-`;
   * at most 128), else a UUID is made; the id is echoed in the response under the same header. `false` makes an
   * id for every request and echoes nothing.
   * @default 'x-request-id'
   * @example
   * ```ts
   * requestLogOptions({ requestIdHeader: 'x-correlation-id' });
   * ```
   */
  readonly requestIdHeader?: string | false;
}

/** The pino-http options {@link requestLogOptions} returns (structural: no pino-http types needed). */
export interface RequestLogSettings {
  readonly customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: unknown) => HttpLogLevel;
  readonly genReqId: (req: IncomingMessage, res: ServerResponse) => string;
  readonly customProps: (req: IncomingMessage, res: ServerResponse) => Record<string, string>;
  readonly wrapSerializers: false;
  readonly serializers: {
    readonly req: (req: IncomingMessage & { readonly id?: unknown; readonly originalUrl?: string }) => object;
    readonly res: (res: ServerResponse) => object;
  };
  readonly customErrorObject: (
    req: IncomingMessage,
    res: ServerResponse,
    error: Error,
    value: Record<string, unknown>,
  ) => Record<string, unknown>;
}

const TOKEN = /^[\w.:-]{1,128}$/;

/**
 * pino-http options for request lines that join traces and leak nothing: levels by {@link httpLogLevel} (5xx at
 * error, 4xx at info, the rest at debug); a request id (the caller's when it is a plain token, else a UUID, echoed
 * in the response); `route` (the template the RED middleware captured, see {@link routeOf}) and `tenant` read when
 * the response is written; the request as `{ id, method, path }` only (no headers: they carry credentials; no
 * query string) and the response as `{ statusCode }`; without the error pino-http makes up for a 5xx that had none.
 * With pino's `mixin: traceLogMixin`, each line carries the request's `trace_id`. Mount it after the RED middleware.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { pinoHttp } from 'pino-http';
 * import { requestLogOptions, traceLogMixin } from '@ballast/telemetry';
 * const logger = pino({ mixin: traceLogMixin });
 * app.use(redMiddleware(metrics));
 * app.use(pinoHttp({ logger, ...requestLogOptions({ tenant: (req) => tenantIdOf(req) }) }));
 * ```
 */
export function requestLogOptions(options: RequestLogOptions = {}): RequestLogSettings {
  const tenantOf = options.tenant;
  const header = options.requestIdHeader === undefined ? 'x-request-id' : options.requestIdHeader;
  if (header !== false && (typeof header !== 'string' || !/^[a-z0-9-]+$/i.test(header))) {
    throw new TypeError(
      `Expected \`requestIdHeader\` to be a header name or false, got \`${String(header)}\` (${typeof header})`,
    );
  }
  return {
    customLogLevel: httpLogLevel,
    genReqId(req, res) {
      if (header === false) return randomUUID();
      const given = req.headers[header];
      const id = typeof given === 'string' && TOKEN.test(given) ? given : randomUUID();
      if (!res.headersSent) res.setHeader(header, id);
      return id;
    },
    customProps(req, res) {
      // Called when the request starts too, before routing and authentication: nothing to say yet then.
      if (!res.headersSent) return {};
      const props: Record<string, string> = {};
      const route = routeOf(res);
      if (route !== undefined) props.route = route;
      const tenant = tenantOf?.(req);
      if (typeof tenant === 'string') props.tenant = tenant;
      return props;
    },
    wrapSerializers: false,
    serializers: {
      req: (req) => ({
        id: req.id,
        method: req.method,
        path: (req.originalUrl ?? req.url ?? '').split('?')[0],
      }),
      res: (res) => ({ statusCode: res.statusCode }),
    },
    customErrorObject: (_req, _res, error, value) =>
      /^failed with status code \d+$/.test(error.message) ? { ...value, err: undefined } : value,
  };
}
