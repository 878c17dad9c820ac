import type { RequestHandler } from 'express';

/**
 * Runs a middleware that answers refusals with `application/json` (the load-shedding and rate-limit middleware of
 * `@ballast/resilience` have no content-type option) so that its refusals go out as
 * `application/problem+json` (RFC 9457). Only the `Content-Type` that middleware sets is rewritten; once it
 * passes the request on, the response is untouched.
 */
export function asProblemJson(middleware: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const own = Object.prototype.hasOwnProperty.call(res, 'setHeader');
    const setHeader = res.setHeader.bind(res);
    let active = true;
    res.setHeader = ((name: string, value: number | string | readonly string[]) => {
      if (active && name.toLowerCase() === 'content-type' && String(value).startsWith('application/json')) {
        return setHeader(name, 'application/problem+json; charset=utf-8');
      }
      return setHeader(name, value);
    }) as typeof res.setHeader;
    const restore = () => {
      if (!active) return;
      active = false;
      if (own) res.setHeader = setHeader;
      else delete (res as { setHeader?: unknown }).setHeader; // back to the prototype's method
    };
    res.once('finish', restore);
    res.once('close', restore);
    return middleware(req, res, (error?: unknown) => {
      restore();
      next(error);
    });
  };
}
