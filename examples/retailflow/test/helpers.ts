import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { ManualClock, flushMicrotasks } from '@ballast/core';
import { DEFAULT_CONFIG, type RetailFlowConfig } from '../src/config.js';
import type { EventEnvelope } from '../src/events/index.js';
import { startRetailFlow, type RetailFlow, type RetailFlowOptions } from '../src/service.js';
import type { CallContext, Deadline } from '@ballast/resilience';
import type { ChargeRequest, PaymentGateway } from '../src/payments/client.js';

/** The development keys every test service is seeded with. */
export const ACME = DEFAULT_CONFIG.acmeApiKey;
export const GLOBEX = DEFAULT_CONFIG.globexApiKey;
export const ADMIN = DEFAULT_CONFIG.adminKey;
export const OPS = DEFAULT_CONFIG.opsToken;

/** Counts the tenant API-key lookups `service` makes from now on (each one a store query). */
export function countLookups(service: RetailFlow): () => number {
  let lookups = 0;
  const find = service.repo.findTenantByApiKeyHash.bind(service.repo);
  service.repo.findTenantByApiKeyHash = (hash: string) => {
    lookups++;
    return find(hash);
  };
  return () => lookups;
}

/**
 * A request as the front door's authentication reads it (`RequestAuthentication.authenticate`): the peer's address
 * and a bearer credential, nothing else.
 */
export function bearerRequest(remoteAddress: string, credential: string, method = 'GET'): IncomingMessage {
  return {
    method,
    socket: { remoteAddress },
    headers: { authorization: `Bearer ${credential}` },
  } as unknown as IncomingMessage;
}

/** 2026-01-05T00:00:00Z: where every test clock starts. */
export const T0 = Date.UTC(2026, 0, 5);

/**
 * A RetailFlow on free ports and a ManualClock; embedded defaults unless `config` says otherwise. Request and
 * payment timeouts are long (10 min, 1 min of manual time), so a test that moves the clock while real I/O runs
 * (see {@link settle}) never times out by accident on a busy machine; tests about timeouts set them.
 */
export async function startTestService(
  config: Partial<RetailFlowConfig> = {},
  options: RetailFlowOptions = {},
): Promise<{ service: RetailFlow; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const service = await startRetailFlow(
    {
      ...DEFAULT_CONFIG,
      port: 0,
      paymentPort: 0,
      opsPort: 0,
      preStopDelayMs: 0,
      shutdownTimeoutMs: 5000,
      requestTimeoutMs: 600_000,
      paymentTimeoutMs: 60_000,
      ...config,
    },
    { clock, random: () => 0.5, log: () => {}, logger: pino({ level: 'silent' }), ...options },
  );
  return { service, clock };
}

/** Wire types of the API (see openapi.json), for reading answers in tests. */
export interface ApiProduct {
  id: string;
  name: string;
  priceCents: number;
  currency: string;
  stock: number;
  updatedAt: string;
  recommendations?: { id: string; name: string }[];
}
export interface ApiOrder {
  id: string;
  status: string;
  items: { productId: string; name: string; quantity: number; unitPriceCents: number }[];
  totalCents: number;
  currency: string;
  paymentId: string | null;
  statusReason: string | null;
  createdAt: string;
  updatedAt: string;
  cancelledAt: string | null;
}
export interface ApiPage<T> {
  items: T[];
  nextCursor: string | null;
}
export interface ApiProblem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

/** A parsed HTTP answer. */
export interface Answer<T = ApiProblem> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly contentType: string;
}

/** Calls the service over HTTP and parses the answer (JSON when it is JSON, text otherwise). */
export async function call<T = ApiProblem>(
  base: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) });
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  const parsed: unknown = contentType.includes('json') && text !== '' ? JSON.parse(text) : text;
  return { status: response.status, headers: response.headers, body: parsed as T, contentType };
}

/** POST /api/v1/orders with an idempotency key. */
export function order(
  base: string,
  key: string,
  idempotencyKey: string,
  items: unknown = [{ productId: 'sku-mug', quantity: 1 }],
): Promise<Answer<ApiOrder & ApiProblem>> {
  return call<ApiOrder & ApiProblem>(base, 'POST', '/api/v1/orders', {
    key,
    body: { items },
    headers: { 'idempotency-key': idempotencyKey },
  });
}

/**
 * Resolves `promise` while moving `clock` forward in `stepMs` steps, so code waiting on the manual clock (retry
 * backoff, queue timeouts) makes progress. Real I/O runs between steps (each step yields to the event loop); no
 * wall-clock sleeping. Gives up after `maxSteps`.
 */
export async function settle<T>(
  clock: ManualClock,
  promise: Promise<T>,
  stepMs = 50,
  maxSteps = 2000,
): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  for (let i = 0; i < maxSteps && !done; i++) {
    await clock.advanceAsync(stepMs);
    await flushMicrotasks();
  }
  return tracked;
}

/**
 * Waits until `condition` holds, yielding to the event loop between checks (real I/O runs; nothing sleeps). Gives up
 * after `limitMs` of wall time: a bound for a busy machine, not a duration the test depends on.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 15_000,
): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Moves the clock until the outbox relay has published every event (and the broker delivered them). */
export async function drainOutbox(service: RetailFlow, clock: ManualClock): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const stats = await service.repo.outboxStats();
    if (stats.depth === 0) {
      await flushMicrotasks();
      return;
    }
    await clock.advanceAsync(250);
  }
  throw new Error('the outbox did not drain');
}

/** An `order.confirmed` envelope about something that is not an order: the fulfilment consumer's poison. */
export function poisonEvent(id: string, at: number): EventEnvelope {
  return {
    id,
    type: 'order.confirmed',
    tenantId: 'acme',
    aggregateType: 'invoice',
    aggregateId: 'inv-1',
    occurredAt: at,
    payload: {},
  };
}

/** A payment gateway that charges every request (its charge id names the order), for sagas run without a provider. */
export const chargingGateway: PaymentGateway = {
  charge: (request: ChargeRequest) =>
    Promise.resolve({
      id: `ch_${request.reference}`,
      amountCents: request.amountCents,
      currency: request.currency,
      reference: request.reference,
      status: 'succeeded',
    }),
  refund: () => Promise.resolve({ chargeId: null }),
};

/** Payment policies of one attempt and nothing else, for a `CheckoutSaga` under test. */
export const oneAttempt = <T>(
  work: (call: CallContext) => Promise<T>,
  deadline: Deadline | undefined,
): Promise<T> => work({ signal: new AbortController().signal, deadline, attempt: 0 });
