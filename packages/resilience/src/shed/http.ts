/**
 * Structural HTTP types for Ballast's middleware: what an express (4 or 5) or plain `node:http` request and response
 * provide, so `@ballast/resilience` needs no runtime dependency on express.
 */

/** The part of a request Ballast's middleware reads. */
export interface HttpRequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The part of a response Ballast's middleware writes. */
export interface HttpResponseLike {
  statusCode: number;
  readonly headersSent?: boolean;
  /** True once the connection is gone (Node sets it when the client disconnects). */
  readonly destroyed?: boolean;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  end(chunk?: string): unknown;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/** The `next` callback of a connect/express middleware. */
export type NextFunctionLike = (error?: unknown) => void;

/** A connect/express-compatible middleware function. */
export type MiddlewareLike<
  Req extends HttpRequestLike = HttpRequestLike,
  Res extends HttpResponseLike = HttpResponseLike,
> = (req: Req, res: Res, next: NextFunctionLike) => void;

/** The default `Content-Type` of a refusal's body. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Ends `res` with `status` and a JSON body (no-op when the headers are already sent). */
export function sendJson(
  res: HttpResponseLike,
  status: number,
  body: unknown,
  contentType = JSON_CONTENT_TYPE,
): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.end(JSON.stringify(body));
}
