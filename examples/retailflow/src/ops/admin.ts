import { Router, type Request } from 'express';
import type { Plan, Repository } from '../data/index.js';
import type { FeatureFlags } from '../flags/flags.js';
import { contextOf } from '../http/context.js';
import { HttpProblem } from '../http/problem.js';
import { invalidRequest, jsonBody } from '../http/validation.js';
import type { OpenApiSchemas } from '../openapi.js';
import type { RoutePriorities } from '../http/route-table.js';
import type { BreakerControl, ChaosControl, ChaosTarget, RequestPriority } from '../policies.js';
import type { DeadLetter, EventEnvelope } from '../events/broker.js';

interface FlagOverrideRequest {
  readonly flag: string;
  readonly tenantId: string | null;
  readonly enabled: boolean | null;
}

interface BreakerRequest {
  readonly name: string;
  readonly action: 'isolate' | 'reset';
}

interface TenantLimitRequest {
  readonly requestsPerMinute: number | null;
}

interface RoutePriorityRequest {
  readonly priority: RequestPriority | null;
}

interface DeadLetterRequest {
  readonly action: 'discard' | 'replay';
  readonly max?: number;
}

/**
 * The dead-letter queues the admin endpoints may empty: RetailFlow's consumers' queues and what the broker offers
 * for them (`Broker.takeDeadLetters`, `Broker.publish`, `Broker.deadLetterDepth`).
 */
export interface DeadLetterControl {
  /** Consumer queues (their dead-letter queue is `<queue>.dlq`): the `queue` label of `retailflow_dlq_depth`. */
  readonly queues: readonly string[];
  take(queue: string, max: number): Promise<readonly DeadLetter[]>;
  /** Publishes an event again (routing key: its type), to the queues bound to it. */
  replay(message: EventEnvelope): Promise<void>;
  depth(queue: string): Promise<number>;
}

interface ChaosRequest {
  readonly target: ChaosTarget;
  readonly enabled: boolean;
  readonly latencyMs?: number;
  readonly errorRate?: number;
}

/**
 * Admin endpoints (mounted behind the ops listener's admin authentication). `GET`/`POST /admin/chaos` switch fault injection on the payment calls, the storage,
 * the outbox relay's reads or the event loop (held busy `latencyMs` of every second) at run time, for drills (audited as a system-wide `chaos.set` entry). `POST /admin/flags` sets or clears
 * (`enabled: null`) a flag override for one tenant or, with `tenantId: null`, for all (audited by the store).
 * `GET`/`POST /admin/breakers` read the circuit breakers' states and isolate (open by hand) or reset one, the lever
 * the runbooks name when a dependency is known to be down (audited as `breaker.isolate` / `breaker.reset`).
 * `POST /admin/tenants/:tenantId/limit` overrides one tenant's requests per minute on this instance, or clears the
 * override with `null` (audited as `tenant.limit`): the lever for a tenant flooding the service.
 * `GET /admin/routes` lists the tenant API's routes with the shedding priority in force, and
 * `POST /admin/routes/:routeId/priority` overrides one route's priority on this instance, or clears the override with
 * `null` (audited as `route.priority`): the lever for shedding a route earlier (or later) than the route table says.
 * `POST /admin/dead-letters/:queue` takes up to `max` messages (default 10) from the consumer queue's dead-letter
 * queue and discards them or publishes them again (`action`), answering each message's event id, type, version,
 * the consumer's reason and its body; the audit entry (`dead-letter.discard` / `dead-letter.replay`) keeps the same,
 * so a discarded message stays on record. A message whose body is not an event cannot be replayed: it is answered
 * and audited with `replayed: false`; so are the messages left when a publish fails (the answer's `error` says why).
 */
export function adminRoutes(
  chaos: ChaosControl,
  repo: Pick<Repository, 'appendAudit' | 'getTenant' | 'setFlagOverride'>,
  schemas: OpenApiSchemas,
  flags: Pick<FeatureFlags, 'has'>,
  breakers: ReadonlyMap<string, BreakerControl> = new Map(),
  tenantLimits?: { readonly overrides: Map<string, number>; readonly planLimit: (plan: Plan) => number },
  routePriorities?: RoutePriorities,
  deadLetters?: DeadLetterControl,
): Router {
  const router = Router({ caseSensitive: true });
  router.get('/chaos', (_req, res) => {
    res.json(chaos.get());
  });
  router.post('/chaos', jsonBody(schemas, 'ChaosRequest'), async (req, res) => {
    const body = req.body as ChaosRequest;
    const previous = chaos.get()[body.target];
    const next = {
      enabled: body.enabled,
      latencyMs: body.latencyMs ?? previous.latencyMs,
      errorRate: body.errorRate ?? previous.errorRate,
    };
    chaos.set(body.target, next);
    await repo.appendAudit({
      tenantId: null,
      actor: actorOf(req),
      action: 'chaos.set',
      targetType: 'chaos',
      targetId: body.target,
      details: { ...next },
    });
    res.json(chaos.get());
  });
  const breakerStates = () => Object.fromEntries([...breakers].map(([name, b]) => [name, b.state]));
  router.get('/breakers', (_req, res) => {
    res.json(breakerStates());
  });
  router.post('/breakers', jsonBody(schemas, 'BreakerRequest'), async (req, res) => {
    const body = req.body as BreakerRequest;
    const breaker = breakers.get(body.name);
    if (!breaker) throw new HttpProblem(404, 'not-found', 'Not found', `No circuit breaker ${body.name}`);
    if (body.action === 'isolate') breaker.isolate();
    else breaker.reset();
    await repo.appendAudit({
      tenantId: null,
      actor: actorOf(req),
      action: `breaker.${body.action}`,
      targetType: 'breaker',
      targetId: body.name,
      details: { state: breaker.state },
    });
    res.json(breakerStates());
  });
  router.post('/tenants/:tenantId/limit', jsonBody(schemas, 'TenantLimitRequest'), async (req, res) => {
    const tenantId = String(req.params.tenantId);
    const body = req.body as TenantLimitRequest;
    const tenant = await repo.getTenant(tenantId);
    if (!tenant || !tenantLimits) {
      throw new HttpProblem(404, 'not-found', 'Not found', `No tenant ${tenantId}`);
    }
    if (body.requestsPerMinute === null) tenantLimits.overrides.delete(tenantId);
    else tenantLimits.overrides.set(tenantId, body.requestsPerMinute);
    const override = tenantLimits.overrides.get(tenantId);
    const limit = {
      tenantId,
      requestsPerMinute: override ?? tenantLimits.planLimit(tenant.plan),
      override: override !== undefined,
    };
    await repo.appendAudit({
      tenantId,
      actor: actorOf(req),
      action: 'tenant.limit',
      targetType: 'tenant',
      targetId: tenantId,
      details: { ...limit },
    });
    res.json(limit);
  });
  router.get('/routes', (_req, res) => {
    res.json({ routes: routePriorities?.list() ?? [] });
  });
  router.post('/routes/:routeId/priority', jsonBody(schemas, 'RoutePriorityRequest'), async (req, res) => {
    const routeId = String(req.params.routeId);
    const body = req.body as RoutePriorityRequest;
    if (!routePriorities?.has(routeId)) {
      throw new HttpProblem(
        404,
        'not-found',
        'Not found',
        `No route ${routeId} (GET /admin/routes lists them)`,
      );
    }
    const previous = routePriorities.get(routeId).priority;
    const now = routePriorities.set(routeId, body.priority);
    await repo.appendAudit({
      tenantId: null,
      actor: actorOf(req),
      action: 'route.priority',
      targetType: 'route',
      targetId: routeId,
      details: { ...now, previous },
    });
    res.json(now);
  });
  router.post('/dead-letters/:queue', jsonBody(schemas, 'DeadLetterRequest'), async (req, res) => {
    const queue = String(req.params.queue);
    const body = req.body as DeadLetterRequest;
    if (!deadLetters?.queues.includes(queue)) {
      throw new HttpProblem(
        404,
        'not-found',
        'Not found',
        `No consumer queue ${queue} (the queue label of retailflow_dlq_depth names it)`,
      );
    }
    const taken = await deadLetters.take(queue, body.max ?? 10);
    const messages = [];
    // Taken messages are out of the queue: whatever happens next, each one is answered and audited with its body.
    // A publish that fails stops the replay; that message and the rest are answered `replayed: false`.
    let error: string | null = null;
    for (const dead of taken) {
      let replayed = false;
      if (body.action === 'replay' && dead.message !== null && error === null) {
        try {
          await deadLetters.replay(dead.message);
          replayed = true;
        } catch (cause) {
          error = `replaying event ${dead.message.id} failed: ${cause instanceof Error ? cause.message : String(cause)}`;
        }
      }
      messages.push({
        eventId: dead.message?.id ?? null,
        type: dead.message?.type ?? null,
        schemaVersion: dead.message?.schemaVersion ?? null,
        reason: dead.reason,
        detail: dead.detail ?? null,
        body: dead.body,
        replayed,
      });
    }
    await repo.appendAudit({
      tenantId: null,
      actor: actorOf(req),
      action: `dead-letter.${body.action}`,
      targetType: 'queue',
      targetId: queue,
      details: { messages, error },
    });
    res.json({ queue, action: body.action, messages, remaining: await deadLetters.depth(queue), error });
  });
  router.post('/flags', jsonBody(schemas, 'FlagOverrideRequest'), async (req, res) => {
    const body = req.body as FlagOverrideRequest;
    if (!flags.has(body.flag)) {
      throw invalidRequest(`No flag ${body.flag}`, [{ path: 'body/flag', message: 'is not a known flag' }]);
    }
    if (body.tenantId !== null && !(await repo.getTenant(body.tenantId))) {
      throw new HttpProblem(404, 'not-found', 'Not found', `No tenant ${body.tenantId}`);
    }
    await repo.setFlagOverride({ ...body, actor: actorOf(req) });
    res.json({ flag: body.flag, tenantId: body.tenantId, enabled: body.enabled });
  });
  return router;
}

/** Who pulled a lever, as the ops listener authenticated them (`admin-key` for the static key), for the audit log. */
function actorOf(req: Request): string {
  return contextOf(req).operator?.subject ?? 'admin';
}
