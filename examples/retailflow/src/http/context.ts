import type { Response } from 'express';
import type { Tenant } from '../data/index.js';
import type { RequestPriority } from '../policies.js';

/** What RetailFlow's middleware learns about a request, kept in `res.locals`. */
export interface RequestContext {
  /** The authenticated tenant (set by the tenant auth middleware). */
  tenant?: Tenant;
  /** Aborts when the request's time budget runs out; passed to every outbound call. */
  deadline?: AbortSignal;
  /** The load-shedding class of the request. */
  priority?: RequestPriority;
}

/** The request context of `res` (created on first use). */
export function contextOf(res: Response): RequestContext {
  const locals = res.locals as { retailflow?: RequestContext };
  return (locals.retailflow ??= {});
}

/** The authenticated tenant; throws when called on a route without tenant auth (a wiring bug). */
export function tenantOf(res: Response): Tenant {
  const tenant = contextOf(res).tenant;
  if (!tenant) throw new Error('tenantOf() called on a route without tenant authentication');
  return tenant;
}

/** The request's deadline signal; a never-aborting signal on routes without one. */
export function deadlineOf(res: Response): AbortSignal {
  return contextOf(res).deadline ?? new AbortController().signal;
}
