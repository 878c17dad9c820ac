import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import type { Deadline } from '@ballast/resilience';
import type { PlanId } from '../billing/plans.js';
import type { Tenant } from '../data/index.js';
import type { Principal } from './authenticate.js';
import type { OpsPrincipal } from './auth.js';

/** What RetailFlow's middleware learns about a request. */
export interface RequestContext {
  /** The authenticated tenant (set by the tenant auth middleware). */
  tenant?: Tenant;
  /** Who authenticated, and how (set with `tenant`). */
  principal?: Principal;
  /** The tenant's billing plan (its billing account's, which may differ from the tenants row), once billing read it. */
  billingPlan?: PlanId;
  /** The operator of an ops-listener request. */
  operator?: OpsPrincipal;
  /** The request's deadline: outbound calls get what is left of it (`x-request-deadline-ms`). */
  deadline?: Deadline;
}

const contexts = new WeakMap<object, RequestContext>();

/** The context of `req` (created on first use; dropped with the request). */
export function contextOf(req: Request | IncomingMessage): RequestContext {
  let context = contexts.get(req);
  if (!context) contexts.set(req, (context = {}));
  return context;
}

/** The authenticated tenant; throws when called on a route without tenant auth (a wiring bug). */
export function tenantOf(req: Request): Tenant {
  const tenant = contextOf(req).tenant;
  if (!tenant) throw new Error('tenantOf() called on a route without tenant authentication');
  return tenant;
}

/** The request's deadline, when it has one. */
export function deadlineOf(req: Request): Deadline | undefined {
  return contextOf(req).deadline;
}
