import http from 'node:http';
import https from 'node:https';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { checkNumber, invalidOption, systemClock, type Clock } from '@ballast/core';

/** The run-time knobs of the payment provider simulator. */
export interface ProviderKnobs {
  /** Added latency of every charge, in milliseconds. @default 0 */
  latencyMs: number;
  /** Fraction of charges answered with a 503, from 0 to 1. @default 0 */
  errorRate: number;
  /** When true every charge gets a 503 (the provider is "down"). @default false */
  down: boolean;
}

/** Options of {@link startPaymentSimulator}. */
export interface PaymentSimulatorOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Initial knobs. @default { latencyMs: 0, errorRate: 0, down: false } */
  readonly knobs?: Partial<ProviderKnobs>;
  /** Clock for the added latency. @default systemClock */
  readonly clock?: Clock;
  /** Source of randomness for `errorRate`, returning [0, 1). @default Math.random */
  readonly random?: () => number;
  /**
   * Mutual TLS: serve HTTPS with this certificate and accept only clients presenting a certificate issued by `ca`
   * (the handshake fails otherwise). Unset means plain HTTP. @default undefined
   */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
  /**
   * Bearer token `GET`/`PUT /admin/knobs` require; unset leaves them open (a simulator nobody else can reach).
   * RetailFlow passes its ops token. @default undefined
   */
  readonly knobsToken?: string;
}

/** A charge the provider accepted. */
export interface Charge {
  readonly id: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly reference: string;
  /** `refunded` once `POST /v1/refunds` ran for its idempotency key. */
  readonly status: 'succeeded' | 'refunded';
}

/** A running simulator. */
export interface PaymentSimulator {
  /** Base URL, e.g. `http://127.0.0.1:3001`. */
  readonly url: string;
  /** The current knobs (a copy). */
  knobs(): ProviderKnobs;
  /** Changes some knobs; bad values throw the Ballast bad-option `TypeError`. */
  setKnobs(knobs: Partial<ProviderKnobs>): ProviderKnobs;
  /** Charge attempts received, including failed ones. */
  readonly attempts: number;
  /** Distinct charges made (a retried charge with the same idempotency key counts once). */
  readonly charges: number;
  /**
   * The `x-request-deadline-ms` (the caller's remaining budget) of every charge attempt, in arrival order;
   * `undefined` for an attempt that sent none.
   */
  readonly deadlines: readonly (number | undefined)[];
  close(): Promise<void>;
}

function checkKnobs(current: ProviderKnobs, patch: unknown): ProviderKnobs {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw invalidOption('knobs', 'an object', patch);
  }
  const p = patch as Record<string, unknown>;
  const down = p.down;
  if (down !== undefined && typeof down !== 'boolean') {
    throw invalidOption('down', 'a boolean', down);
  }
  return {
    latencyMs: checkNumber('latencyMs', p.latencyMs, current.latencyMs, { min: 0, max: 60_000 }),
    errorRate: checkNumber('errorRate', p.errorRate, current.errorRate, { min: 0, max: 1 }),
    down: down ?? current.down,
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
}

/**
 * Starts the payment provider simulator: a plain HTTP server on its own port, so RetailFlow's payment calls cross
 * a real socket with real timeouts. Charges are idempotent by the `Idempotency-Key` header (a retried charge is
 * never taken twice), and the caller's remaining budget in `x-request-deadline-ms` is honoured: work that would
 * outlive it ends with a 504 at the deadline. Knobs are read and set at run time with `GET`/`PUT /admin/knobs`.
 *
 * API: `POST /v1/charges` `{ amountCents, currency, reference }` → 201 `Charge` (409 `voided` for a key refunded
 * before its charge arrived); `POST /v1/refunds` with the charge's `Idempotency-Key` → 200 `{ chargeId, status }`
 * (refunds the charge made under the key, or voids the key); `GET /v1/charges/:id`;
 * `GET|PUT /admin/knobs` and `GET /admin/charges` (every charge made; both with `knobsToken`, as a bearer token);
 * `GET /healthz`.
 *
 * @example
 * ```ts
 * const provider = await startPaymentSimulator({ port: 0 });
 * provider.setKnobs({ errorRate: 0.5, latencyMs: 200 });
 * await provider.close();
 * ```
 */
export async function startPaymentSimulator(
  options: PaymentSimulatorOptions = {},
): Promise<PaymentSimulator> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  let knobs = checkKnobs({ latencyMs: 0, errorRate: 0, down: false }, options.knobs ?? {});
  const byKey = new Map<string, Charge>();
  const byId = new Map<string, Charge>();
  const voided = new Set<string>();
  let attempts = 0;
  const deadlines: (number | undefined)[] = [];

  const token =
    options.knobsToken === undefined ? undefined : createHash('sha256').update(options.knobsToken).digest();
  const knobsAllowed = (req: http.IncomingMessage): boolean => {
    if (token === undefined) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return match?.[1] !== undefined && timingSafeEqual(createHash('sha256').update(match[1]).digest(), token);
  };

  const delay = (ms: number) =>
    ms <= 0 ? Promise.resolve() : new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

  async function charge(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    attempts++;
    const header = Number(req.headers['x-request-deadline-ms']);
    const deadlineMs = Number.isFinite(header) ? header : undefined;
    deadlines.push(deadlineMs);
    const body = (await readJson(req)) as Record<string, unknown>;
    // A caller whose budget runs out before the added latency would have given up: answer 504 at its deadline.
    if (deadlineMs !== undefined && deadlineMs < knobs.latencyMs) {
      await delay(deadlineMs);
      if (!res.destroyed) send(res, 504, { error: 'deadline_exceeded' });
      return;
    }
    await delay(knobs.latencyMs);
    if (res.destroyed) return;
    if (knobs.down || (knobs.errorRate > 0 && random() < knobs.errorRate)) {
      send(res, 503, { error: 'provider_unavailable' });
      return;
    }
    const { amountCents, currency, reference } = body;
    if (
      typeof amountCents !== 'number' ||
      !Number.isInteger(amountCents) ||
      amountCents <= 0 ||
      typeof currency !== 'string' ||
      typeof reference !== 'string'
    ) {
      send(res, 400, { error: 'invalid_charge' });
      return;
    }
    const key = req.headers['idempotency-key'];
    // A key refunded (voided) before its charge arrived, or while it was held up: never charged afterwards.
    if (typeof key === 'string' && voided.has(key) && !byKey.has(key)) {
      send(res, 409, { error: 'voided' });
      return;
    }
    const existing = typeof key === 'string' ? byKey.get(key) : undefined;
    if (existing) {
      send(res, 200, existing);
      return;
    }
    const made: Charge = { id: `ch_${randomUUID()}`, amountCents, currency, reference, status: 'succeeded' };
    byId.set(made.id, made);
    if (typeof key === 'string') byKey.set(key, made);
    send(res, 201, made);
  }

  /**
   * Refunds the charge made under an idempotency key, or voids the key when there is none yet (a charge held up in
   * flight is then refused), so a caller that does not know whether its charge went through can undo it either way.
   * Idempotent: a repeat answers the same.
   */
  async function refund(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    await readJson(req);
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0) {
      send(res, 400, { error: 'idempotency_key_required' });
      return;
    }
    await delay(knobs.latencyMs);
    if (res.destroyed) return;
    if (knobs.down || (knobs.errorRate > 0 && random() < knobs.errorRate)) {
      send(res, 503, { error: 'provider_unavailable' });
      return;
    }
    voided.add(key);
    const made = byKey.get(key);
    if (!made) {
      send(res, 200, { chargeId: null, status: 'voided' });
      return;
    }
    const refunded: Charge = { ...made, status: 'refunded' };
    byKey.set(key, refunded);
    byId.set(made.id, refunded);
    send(res, 200, { chargeId: made.id, status: 'refunded' });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://provider').pathname;
    if (req.method === 'POST' && path === '/v1/charges') return charge(req, res);
    if (req.method === 'POST' && path === '/v1/refunds') return refund(req, res);
    if (req.method === 'GET' && path.startsWith('/v1/charges/')) {
      const found = byId.get(path.slice('/v1/charges/'.length));
      return found ? send(res, 200, found) : send(res, 404, { error: 'not_found' });
    }
    if (path === '/admin/knobs' && !knobsAllowed(req)) {
      res.setHeader('www-authenticate', 'Bearer realm="payment-simulator"');
      return send(res, 401, { error: 'unauthorized' });
    }
    if (path === '/admin/knobs' && req.method === 'GET') return send(res, 200, knobs);
    if (path === '/admin/charges' && !knobsAllowed(req)) return send(res, 401, { error: 'unauthorized' });
    // Every charge made, for reconciliation drills (does every charge have its order?).
    if (path === '/admin/charges' && req.method === 'GET') return send(res, 200, [...byId.values()]);
    if (path === '/admin/knobs' && req.method === 'PUT') {
      try {
        knobs = checkKnobs(knobs, await readJson(req));
      } catch (error) {
        return send(res, 400, { error: error instanceof Error ? error.message : String(error) });
      }
      return send(res, 200, knobs);
    }
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { status: 'ok' });
    send(res, 404, { error: 'not_found' });
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 400, { error: 'bad_request' });
      else res.destroy();
    });
  };
  const tls = options.tls;
  const server = tls
    ? https.createServer(
        {
          cert: tls.cert,
          key: tls.key,
          ca: tls.ca,
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
        },
        listener,
      )
    : http.createServer(listener);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;

  return {
    url: `${tls ? 'https' : 'http'}://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`,
    knobs: () => ({ ...knobs }),
    setKnobs(patch) {
      knobs = checkKnobs(knobs, patch);
      return { ...knobs };
    },
    get attempts() {
      return attempts;
    },
    get charges() {
      return byId.size;
    },
    get deadlines() {
      return deadlines.slice();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
