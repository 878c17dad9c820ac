import http from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { reportError, systemClock, type Clock } from '@ballast/core';
import { instrumentFetch } from '@ballast/telemetry';
import type { TelemetryHandle } from '@ballast/telemetry/tracing';
import { createApp, createOpsApp, type AppDependencies } from './app.js';
import { staticTokenAuthenticator, type OpsAuthenticator } from './http/auth.js';
import { RequestAuthentication, sourceOf, trustedProxies, type Authenticator } from './http/authenticate.js';
import { contextOf } from './http/context.js';
import { DEFAULT_CONFIG, loadConfig, type RetailFlowConfig } from './config.js';
import { openRepository, seedDemoData, type Repository, type SqlRepository } from './data/index.js';
import { sqlSnapshotStore } from './data/slo-snapshots.js';
import { createIdentity } from './identity/wiring.js';
import { checkUnfinished } from './identity/errors.js';
import { createBilling, type Billing } from './billing/wiring.js';
import { createCost, type RetailFlowCost } from './cost/wiring.js';
import { generateDevCertificates, mtlsFetch } from './identity/mtls.js';
import { FLAG_RULES, FeatureFlags } from './flags/flags.js';
import { loadOpenApiDocument, OpenApiSchemas } from './openapi.js';
import { Readiness } from './ops/readiness.js';
import { Checkout } from './orders/checkout.js';
import { CheckoutSaga } from './orders/saga.js';
import { httpPaymentGateway, type PaymentGateway } from './payments/client.js';
import {
  startPaymentSimulator,
  type PaymentSimulator,
  type PaymentSimulatorOptions,
} from './payments/simulator.js';
import { withStorageChaos } from './wiring/storage-chaos.js';
import { createPolicies, PROBLEM_CONTENT_TYPE, type RetailFlowPolicies } from './wiring/policies.js';
import { frontDoor } from './http/front-door.js';
import { createSlos, type RetailFlowSlos } from './wiring/slo.js';
import { createTelemetry, type RetailFlowTelemetry } from './wiring/telemetry.js';
import { startEvents, type RetailFlowEvents } from './wiring/events.js';
import { translateError } from './wiring/errors.js';
import { InFlightRequests } from './ops/in-flight.js';
import { checkoutFailureLog } from './wiring/checkout-failures.js';
import { createLogger, createLogging } from './wiring/logging.js';
import type { Logger } from 'pino';

/** Test and embedding hooks for {@link startRetailFlow}; the defaults are what `npm start` uses. */
export interface RetailFlowOptions {
  /** The clock of every core (breakers, limits, caches, SLO engine, store timestamps). @default systemClock */
  readonly clock?: Clock;
  /** Randomness for chaos and jitter, returning [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Options of the payment simulator started when `config.paymentUrl` is unset. @default { port: config.paymentPort } */
  readonly provider?: PaymentSimulatorOptions;
  /** Where start-up and shutdown lines go. @default console.log */
  readonly log?: (line: string) => void;
  /** Tracing already started with `startTracing` (before the service's modules loaded); flushed on shutdown. */
  readonly tracing?: TelemetryHandle;
  /** PostgreSQL schema to use (tests isolate themselves in their own schema). @default 'public' */
  readonly databaseSchema?: string;
  /** Prefix of RabbitMQ exchanges and queues and of Redis keys (tests isolate themselves). @default 'retailflow' */
  readonly namespace?: string;
  /** Where JSON request and policy logs go. @default createLogger({ service: config.serviceName }) (stdout, info) */
  readonly logger?: Logger;
  /** The payment provider as checkout calls it (tests drive interleavings with a fake). @default HTTP to the provider */
  readonly paymentGateway?: PaymentGateway;
  /**
   * Authenticators asked before the API keys (e.g. a JWT resource server); the first that accepts a credential
   * wins. @default []
   */
  readonly authenticators?: readonly Authenticator[];
  /** Who may use the ops listener. @default the ops token (observer) and the admin key (admin) */
  readonly opsAuthenticator?: OpsAuthenticator;
}

/** A running RetailFlow. */
export interface RetailFlow {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Base URL of the ops listener (`/metrics`, `/slo`, `/admin/*`), e.g. `http://127.0.0.1:3002`. */
  readonly opsUrl: string;
  readonly config: RetailFlowConfig;
  readonly clock: Clock;
  /** The store (without the storage chaos switch). */
  readonly repo: Repository;
  readonly policies: RetailFlowPolicies;
  readonly slos: RetailFlowSlos;
  readonly events: RetailFlowEvents;
  readonly telemetry: RetailFlowTelemetry;
  readonly readiness: Readiness;
  /** Plans, quotas and the usage meter. */
  readonly billing: Billing;
  /** Cost attribution by tenant and route, and its report. */
  readonly cost: RetailFlowCost;
  /** The payment simulator, when RetailFlow started it (no `PAYMENT_URL`). */
  readonly provider: PaymentSimulator | undefined;
  /** HTTP requests being handled now. */
  readonly inFlight: number;
  /**
   * Graceful shutdown: readiness goes `not-ready`, the listener stops accepting, in-flight requests drain (up to
   * `shutdownTimeoutMs`, then connections are closed), the outbox relay stops after its current batch, the
   * consumer, broker, store and policies close, and telemetry is flushed. Safe to call twice.
   */
  shutdown(): Promise<void>;
}

/** The failure budget's source address behind the proxies of `entries` ({@link sourceOf}). */
function proxiedSource(entries: readonly string[]): (req: http.IncomingMessage) => string {
  const proxies = trustedProxies(entries);
  return (req) => sourceOf(req, proxies);
}

/**
 * Starts RetailFlow: opens the store (SQLite in memory, or PostgreSQL with `DATABASE_URL`) and seeds the demo
 * tenants, starts the payment simulator unless `PAYMENT_URL` is set, builds the policies, SLO engine and telemetry,
 * starts the outbox relay and the fulfilment consumer, and listens.
 *
 * @example
 * ```ts
 * const service = await startRetailFlow(loadConfig({ PORT: '0' }));
 * console.log(service.url);
 * await service.shutdown();
 * ```
 */
export async function startRetailFlow(
  config: RetailFlowConfig = loadConfig(),
  options: RetailFlowOptions = {},
): Promise<RetailFlow> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const log = options.log ?? ((line: string) => console.log(line));
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        reportError(error, 'retailflow: shutdown step failed');
      }
    }
    closers.length = 0;
  };

  let closing = false;
  try {
    const repo = await openRepository({
      clock,
      databaseUrl: config.databaseUrl,
      sqlitePath: config.sqlitePath,
      waitForPrimaryMs: config.databaseWaitForPrimaryMs,
      preparedStatements: config.databasePreparedStatements,
      ...(options.databaseSchema === undefined ? {} : { schema: options.databaseSchema }),
    });
    closers.push(() => repo.close());
    await seedDemoData(repo, {
      apiKeys: { acme: config.acmeApiKey, globex: config.globexApiKey },
      ...(config.seedStock !== undefined ? { stock: config.seedStock } : {}),
    });

    let provider: PaymentSimulator | undefined;
    // Mutual TLS on the payment hop: development certificates made at start-up, never stored.
    const certs =
      config.paymentMtls === true && config.paymentUrl === undefined && options.paymentGateway === undefined
        ? await generateDevCertificates()
        : undefined;
    if (config.paymentUrl === undefined && options.paymentGateway === undefined) {
      if (!config.paymentSimulator) {
        throw new TypeError('Expected `PAYMENT_URL` to be set when `PAYMENT_SIMULATOR=false`');
      }
      provider = await startPaymentSimulator({
        port: config.paymentPort,
        host: config.host,
        // Its drill knobs take the ops token, like the rest of the ops plane.
        knobsToken: config.opsToken,
        ...(certs ? { tls: certs.server } : {}),
        ...options.provider,
      });
      closers.push(() => provider?.close());
    }
    const paymentUrl = config.paymentUrl ?? provider?.url ?? 'http://127.0.0.1:9';

    const telemetry = createTelemetry({
      config,
      clock,
      ...(options.tracing ? { tracing: options.tracing } : {}),
    });
    closers.push(() => telemetry.shutdown());

    const policies = await createPolicies({
      config,
      clock,
      random,
      namespace: options.namespace ?? 'retailflow',
    });
    closers.push(() => policies.close());
    telemetry.observePolicies(policies);
    const logger = options.logger ?? createLogger({ service: config.serviceName });
    const logging = createLogging({ logger, clock, policies });
    // One warning per failed checkout (rate limited), whether express or the front door answered it.
    const checkoutFailures = checkoutFailureLog({ logger, clock });
    closers.push(() => logging.close());

    const slos = await createSlos({
      clock,
      service: 'retailflow',
      // Budgets and firing alerts survive a restart: the engine's state lives in the service's database.
      snapshots: sqlSnapshotStore((repo as SqlRepository).driver, sloSnapshotKey(config)),
      snapshotEveryMs: config.sloSnapshotIntervalMs,
      ...(config.prometheusUrl === undefined
        ? {}
        : { prometheus: { url: config.prometheusUrl, refreshMs: config.prometheusRefreshMs } }),
    });
    log(
      `retailflow: SLO state ${slos.persistence?.state.detail ?? 'not persisted'}; budgets from ${slos.source().kind}`,
    );
    closers.push(() => slos.close());
    telemetry.observeSlos(slos.engine);

    const chaosRepo = withStorageChaos(repo, policies.storageChaos);
    const events = await startEvents({
      config,
      clock,
      repo,
      slos,
      telemetry,
      random,
      namespace: options.namespace ?? 'retailflow',
      relayChaos: policies.relayChaos,
    });
    closers.push(() => events.close());

    const schemas = new OpenApiSchemas(loadOpenApiDocument());
    const flags = new FeatureFlags(FLAG_RULES, (slo) => slos.policy(slo));
    const saga = new CheckoutSaga(
      chaosRepo,
      policies.payment,
      options.paymentGateway ??
        httpPaymentGateway(
          paymentUrl,
          // Outbound RED (http_client_request_duration_seconds) and trace context for the provider calls.
          instrumentFetch(telemetry.metrics, {
            serverAddresses: [new URL(paymentUrl).host],
            ...(certs ? { fetch: mtlsFetch(certs.client) } : {}),
          }),
        ),
      {
        clock,
        refundTimeoutMs: config.paymentTimeoutMs,
        onError: (error, order) =>
          logger.warn(
            { err: error, tenant: order.tenantId, orderId: order.id },
            'checkout saga: compensation or recovery failed; retried by the next recovery pass',
          ),
      },
    );
    const checkout = new Checkout(chaosRepo, policies, saga, { clock });
    const recoveryIntervalMs = config.sagaRecoveryIntervalMs ?? 30_000;
    if (recoveryIntervalMs > 0) {
      const stopRecovery = saga.start(recoveryIntervalMs, (report) => {
        if (report.resumed + report.compensated + report.failed > 0) {
          logger.info({ saga: report }, 'checkout saga recovery pass');
        }
      });
      // Compensations still running at shutdown are not waited for: their sagas stay open in the store, and the
      // next recovery pass (here or on another instance) finishes them.
      closers.push(() => stopRecovery());
    }
    const readiness = new Readiness(
      [
        { name: 'storage', check: () => repo.health() },
        // Checkouts keep answering while the broker is down (events wait in the outbox): reported, not fatal.
        { name: 'broker', check: () => events.health(), degradable: true },
        ...(policies.redisHealth ? [{ name: 'redis', check: policies.redisHealth }] : []),
      ],
      systemClock,
    );
    telemetry.observeRepository(repo);

    // Outside development the static admin key opens nothing here: operators use access tokens with `admin`.
    const identity = createIdentity(
      { ...config, allowAdminKey: process.env.NODE_ENV !== 'production' },
      {
        clock,
        repo,
        driver: (repo as SqlRepository).driver,
        tenantLookup: policies.tenantLookup,
        namespace: options.namespace ?? 'retailflow',
      },
    );
    closers.push(() => identity.close());

    const billing = await createBilling({
      config,
      clock,
      driver: (repo as SqlRepository).driver,
      namespace: options.namespace ?? 'retailflow',
      lookup: policies.tenantLookup,
      findOrder: (tenantId, key) => chaosRepo.findOrderByIdempotencyKey(tenantId, key),
    });
    closers.push(() => billing.close());

    // Per-request cost by tenant and route (CPU, database time, bytes), priced for `GET /admin/cost`.
    const cost = createCost({
      config,
      clock,
      registry: telemetry.metrics.prom,
      driver: (repo as SqlRepository).driver,
      billing,
      repo,
      policies: policies.observable,
    });
    closers.push(() => cost.close());

    const authentication = new RequestAuthentication({
      authenticators: [...(options.authenticators ?? []), identity.authenticator],
      clock,
      failuresPerMinute: config.authFailuresPerMinute,
      // A revocation list or key set that could not be read says nothing against the credential.
      uncounted: checkUnfinished,
      ...(config.trustedProxies.length === 0 ? {} : { source: proxiedSource(config.trustedProxies) }),
    });
    const opsAuthenticator =
      options.opsAuthenticator ??
      staticTokenAuthenticator([
        { token: config.opsToken, principal: { subject: 'ops-token', role: 'observer' } },
        { token: config.adminKey, principal: { subject: 'admin-key', role: 'admin' } },
      ]);
    const deps: AppDependencies = {
      config,
      clock,
      repo: chaosRepo,
      adminRepo: repo,
      policies,
      checkout,
      saga,
      flags,
      schemas,
      ops: { readiness, metrics: telemetry.metricsHandler, sloReport: () => slos.report(), clock },
      deadLetters: {
        queues: [events.fulfilment.queue],
        take: (queue, max) => events.broker.takeDeadLetters(queue, max),
        replay: (message) => events.broker.publish(message),
        depth: (queue) => events.broker.deadLetterDepth(queue),
      },
      // Request logs after RED (which captures the route they name); not in the front door: sheds are counted, not logged.
      // Cost after RED too: it reads the route RED captured when the response closes.
      instrumentation: [...telemetry.middleware, cost.middleware, logging.middleware, checkoutFailures],
      sloRecorder: slos.recorder,
      onUnexpected: (error: unknown) => {
        // A request its client abandoned can still be running when shutdown closes the store; its failure then
        // is the shutdown's, not a bug, and nobody is left to answer.
        if (!closing) logging.unexpected(error);
      },
      translateError,
      authentication,
      opsAuthenticator,
      identity,
      billing,
      cost,
    };
    const app = createApp(deps);

    // Authentication and shedding before express: an unauthenticated request never holds a permit nor has its
    // body read, and a refusal costs a fraction of a handled request.
    const server = http.createServer(
      // Node checks its request timeouts this often; the default (30 s) would let a slow body run long past them.
      { connectionsCheckingInterval: 1000 },
      frontDoor(app, {
        authenticate: (req) => authentication.check(req),
        authError: (error) => {
          const problem = translateError(error);
          return problem !== undefined && problem.status === 503 ? problem : undefined;
        },
        onAuthenticated: (req, auth) => {
          const context = contextOf(req);
          context.tenant = auth.tenant;
          context.principal = auth.principal;
        },
        gate: policies.ingress,
        priorities: policies.routePriorities,
        instrumentation: [...telemetry.middleware, checkoutFailures],
        slo: (which, res) => slos.track(which, res),
        body: policies.refusal,
        ...(policies.tenantRefusal === undefined ? {} : { tenantLimitBody: policies.tenantRefusal }),
        contentType: PROBLEM_CONTENT_TYPE,
        retryAfterSeconds: 1,
      }),
    );
    server.keepAliveTimeout = 5000;
    // A request must arrive whole (headers and body) within the body timeout: slow senders are cut off by Node
    // (408) even where the express body deadline does not run.
    server.headersTimeout = Math.min(10_000, config.bodyTimeoutMs);
    server.requestTimeout = Math.max(server.headersTimeout, config.bodyTimeoutMs + 1000);
    const inFlight = new InFlightRequests(server);
    const listen = (target: http.Server, port: number, host: string) =>
      new Promise<string>((resolve, reject) => {
        target.once('error', reject);
        target.listen(port, host, () => {
          target.off('error', reject);
          const address = target.address() as AddressInfo;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${address.port}`);
        });
      });
    const opsServer = http.createServer(
      { connectionsCheckingInterval: 1000, headersTimeout: 10_000, requestTimeout: 30_000 },
      createOpsApp(deps),
    );
    const opsUrl = await listen(opsServer, config.opsPort, config.opsHost);
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          opsServer.close(() => resolve());
          opsServer.closeAllConnections();
        }),
    );
    const url = await listen(server, config.port, config.host);

    let stopping: Promise<void> | undefined;
    const shutdown = () =>
      (stopping ??= (async () => {
        readiness.startDraining();
        // `/readyz` now answers 503; keep serving until the load balancer has seen it and stopped sending, then
        // close the listener.
        if (config.preStopDelayMs > 0) {
          log(`retailflow: not ready; closing the listener in ${config.preStopDelayMs} ms`);
          await new Promise<void>((resolve) => clock.setTimeout(resolve, config.preStopDelayMs));
        }
        readiness.markClosed();
        const deadline = performance.now() + config.shutdownTimeoutMs;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const drained = await inFlight.drained(config.shutdownTimeoutMs);
        if (!drained)
          log(`retailflow: ${inFlight.count} request(s) still running after ${config.shutdownTimeoutMs} ms`);
        // A checkout whose client went away keeps running: let it record its payment before the store closes.
        while (checkout.inFlight > 0 && performance.now() < deadline) {
          await new Promise<void>((resolve) => setTimeout(resolve, 5).unref());
        }
        server.closeAllConnections();
        await closed;
        closing = true;
        await closeAll();
        log('retailflow: stopped');
      })());

    return {
      url,
      opsUrl,
      config,
      clock,
      repo,
      policies,
      slos,
      events,
      telemetry,
      readiness,
      billing,
      cost,
      provider,
      get inFlight() {
        return inFlight.count;
      },
      shutdown,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * The row of `slo_snapshots` this instance's SLO engine is saved to and restored from: `SLO_SNAPSHOT_KEY`, else
 * `<service>@<hostname>:<PORT>`, so an instance only ever restores its own state (a restart on the same host and
 * port), never another replica's sharing the database.
 *
 * @example
 * ```ts
 * sloSnapshotKey(loadConfig({ PORT: '3000' })); // 'retailflow@web-1:3000'
 * ```
 */
export function sloSnapshotKey(config: RetailFlowConfig): string {
  return config.sloSnapshotKey ?? `${config.serviceName}@${hostname()}:${config.port}`;
}

/**
 * The start-up banner: where to reach the service and the ops listener. Secrets are never printed: the
 * development defaults are named as such (they are in the README), anything else says where it came from.
 */
export function banner(service: RetailFlow): string {
  const c = service.config;
  const dev = (value: string, fallback: string) =>
    value === fallback ? 'development default (see the README)' : 'set from the environment';
  return [
    `RetailFlow listening on ${service.url} (${c.mode})`,
    `  ops:      ${service.opsUrl} (/metrics, /slo, /admin/*; ops token: ${dev(c.opsToken, DEFAULT_CONFIG.opsToken)})`,
    `  storage:  ${service.repo.kind}${c.databaseUrl ? '' : ` (${c.sqlitePath})`}`,
    `  broker:   ${service.events.brokerKind}`,
    `  limits:   ${c.redisUrl ? 'redis' : 'memory'}`,
    `  payments: ${service.provider ? `simulator at ${service.provider.url}` : (c.paymentUrl ?? 'injected')}`,
    `  traces:   ${c.otlpEndpoint ?? 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`,
    `  tenant keys: acme (pro) ${dev(c.acmeApiKey, DEFAULT_CONFIG.acmeApiKey)}, globex (free) ${dev(c.globexApiKey, DEFAULT_CONFIG.globexApiKey)}`,
    `  admin key:   ${dev(c.adminKey, DEFAULT_CONFIG.adminKey)}`,
  ].join('\n');
}
