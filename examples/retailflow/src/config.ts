import { readFileSync } from 'node:fs';
import { checkOneOf, invalidOption } from '@ballast/core';
import { trustedProxies } from './http/authenticate.js';

/**
 * Everything RetailFlow reads from its environment. Every field has an embedded default, so the service runs
 * with no external services at all: SQLite in memory, an in-process broker, in-memory rate limits, and the
 * payment provider simulator started on its own port.
 */
export interface RetailFlowConfig {
  /** HTTP port of the API (`PORT`); 0 picks a free port. @default 3000 */
  readonly port: number;
  /** Interface to listen on (`HOST`). @default '127.0.0.1' */
  readonly host: string;
  /** PostgreSQL URL (`DATABASE_URL`); unset means the embedded SQLite store. */
  readonly databaseUrl?: string;
  /**
   * Milliseconds to wait at start-up for the database to be promoted when it is a standby
   * (`DATABASE_WAIT_FOR_PRIMARY_MS`; the warm instances of a standby region). @default 0
   */
  readonly databaseWaitForPrimaryMs?: number;
  /**
   * Distinct statement texts each PostgreSQL connection prepares once and then only executes
   * (`DATABASE_PREPARED_STATEMENTS`); 0 prepares none (a pooler in transaction mode). @default 200
   */
  readonly databasePreparedStatements?: number;
  /** SQLite file for the embedded store (`SQLITE_PATH`). @default ':memory:' */
  readonly sqlitePath: string;
  /** Redis URL for per-tenant rate limits (`REDIS_URL`); unset means in-memory limits. */
  readonly redisUrl?: string;
  /** RabbitMQ URL for order events (`AMQP_URL`); unset means the in-process broker. */
  readonly amqpUrl?: string;
  /**
   * Prometheus that scrapes every replica (`PROMETHEUS_URL`): when set, the error-budget policy (and the flags that
   * follow it) and `/slo` read the fleet's view from it, so every replica decides alike; while it does not answer,
   * each replica's own engine decides (`/slo` says `local-fallback` and why). Unset means the local engine.
   */
  readonly prometheusUrl?: string;
  /** How often the fleet's view is read from Prometheus, in ms (`PROMETHEUS_REFRESH_MS`). @default 15000 */
  readonly prometheusRefreshMs: number;
  /**
   * Row of `slo_snapshots` this instance saves its SLO engine's state to and restores it from
   * (`SLO_SNAPSHOT_KEY`). The default names the instance (host name and `PORT`), so replicas sharing a database
   * never restore each other's counts; set it where the host name changes at each restart but the instance is the
   * same (a Deployment's pods: use a StatefulSet's pod name, or rely on `PROMETHEUS_URL`).
   * @default `<OTEL_SERVICE_NAME>@<hostname>:<PORT>`
   */
  readonly sloSnapshotKey?: string;
  /**
   * How often the SLO engine's state is saved, in ms (`SLO_SNAPSHOT_INTERVAL_MS`; also at shutdown); a crash loses
   * at most this much of the counts. `0` saves at shutdown only. @default 60000
   */
  readonly sloSnapshotIntervalMs: number;
  /** OTLP/HTTP endpoint for traces (`OTEL_EXPORTER_OTLP_ENDPOINT`); unset means no trace export. */
  readonly otlpEndpoint?: string;
  /** Base URL of the payment provider (`PAYMENT_URL`); unset means RetailFlow starts its simulator. */
  readonly paymentUrl?: string;
  /** Port for the simulator when {@link RetailFlowConfig.paymentUrl} is unset (`PAYMENT_PORT`). @default 3001 */
  readonly paymentPort: number;
  /** Key for `/admin/*` (`ADMIN_KEY`). @default 'rf_admin_dev_key' */
  readonly adminKey: string;
  /** API key of the demo tenant `acme`, plan `pro` (`ACME_API_KEY`). @default 'rf_acme_dev_key' */
  readonly acmeApiKey: string;
  /** API key of the demo tenant `globex`, plan `free` (`GLOBEX_API_KEY`). @default 'rf_globex_dev_key' */
  readonly globexApiKey: string;
  /** Requests per minute a `pro` tenant may make (`PRO_REQUESTS_PER_MINUTE`). @default 1200 */
  readonly proRequestsPerMinute: number;
  /** Requests per minute a `free` tenant may make (`FREE_REQUESTS_PER_MINUTE`). @default 120 */
  readonly freeRequestsPerMinute: number;
  /**
   * Requests per minute a tenant billed on the `enterprise` plan may make (`ENTERPRISE_REQUESTS_PER_MINUTE`; the
   * plan is its billing account's). @default 6000
   */
  readonly enterpriseRequestsPerMinute: number;
  /**
   * Measure each request's CPU, database time and bytes by tenant and route (`COST_ATTRIBUTION`, `true` or
   * `false`): `GET /admin/cost` and the `retailflow_cost_*` metrics. @default true
   */
  readonly costAttribution: boolean;
  /** Share of requests whose CPU time is measured, above 0 and at most 1 (`COST_SAMPLE_RATE`; the rest are estimated from them). @default 1 */
  readonly costSampleRate: number;
  /** Tenants the cost metrics label by id before summing the rest as `__other__` (`COST_MAX_TENANTS`). @default 200 */
  readonly costMaxTenants: number;
  /** Price sheet file (`COST_PRICE_SHEET`, JSON, see `examples/retailflow/cost/price-sheet.json`); unset: its example prices. */
  readonly costPriceSheet?: string;
  /**
   * How long metered usage events are kept, in days (`USAGE_RETENTION_DAYS`); older ones are pruned hourly. Past
   * invoices need their month's events: keep more than the months you may re-issue. @default 400
   */
  readonly usageRetentionDays: number;
  /** Cache catalog reads for 5 s (`CATALOG_CACHE`, `true` or `false`; `false` measures what the cache saves). @default true */
  readonly catalogCache: boolean;
  /**
   * Inventory reservations running at once (`INVENTORY_CONCURRENCY`): the bulkhead's slots. On the proof's machine
   * (2 cores, PostgreSQL on the same host) 4 checkouts at once serve nearly as many a second as 16 (150-210 against
   * 175-260, closed loop) and each waits a quarter as long: beyond that, checkouts mostly queue for the same CPU
   * and stock rows. Measure yours. @default 4
   */
  readonly inventoryConcurrency: number;
  /**
   * Reservations that may wait for a slot (`INVENTORY_QUEUE`). A short queue: while it holds anyone, catalog reads
   * are shed to give checkouts the CPU, and once it is full checkouts are refused at the front door. @default 2
   */
  readonly inventoryQueue: number;
  /**
   * Longest a reservation waits for a slot before the checkout is refused with a 503, in ms
   * (`INVENTORY_QUEUE_TIMEOUT_MS`): a checkout that waits longer than one takes would only add latency. @default 20
   */
  readonly inventoryQueueTimeoutMs: number;
  /** Largest accepted JSON body in bytes (`BODY_LIMIT_BYTES`). @default 65536 */
  readonly bodyLimitBytes: number;
  /** Time budget of one inbound request, propagated to outbound calls (`REQUEST_TIMEOUT_MS`). @default 5000 */
  readonly requestTimeoutMs: number;
  /** Per-attempt timeout of a payment call (`PAYMENT_TIMEOUT_MS`). @default 1000 */
  readonly paymentTimeoutMs: number;
  /**
   * Client-side throttling of payment attempts (`PAYMENT_THROTTLE_K`): the SRE book's K. Attempts go on until they
   * reach K times what the provider accepted in the window; beyond that the excess is refused locally at once. Lower
   * is more aggressive; `0` turns the throttle off. @default 2
   */
  readonly paymentThrottleK: number;
  /**
   * The window the payment throttle counts over, in ms (`PAYMENT_THROTTLE_WINDOW_MS`, 1000-9000): shorter than the
   * payment breaker's 10 s open time, so the counts of an outage have left the window when the breaker probes.
   * @default 5000
   */
  readonly paymentThrottleWindowMs: number;
  /** How long shutdown waits for in-flight requests (`SHUTDOWN_TIMEOUT_MS`). @default 10000 */
  readonly shutdownTimeoutMs: number;
  /**
   * How often the checkout saga's recovery step looks for stuck sagas, in ms (`SAGA_RECOVERY_INTERVAL_MS`; it also
   * runs once at start): checkouts whose process died mid-charge are resumed, refunds and voids that failed are
   * retried. 0 turns it off. @default 30000
   */
  readonly sagaRecoveryIntervalMs?: number;
  /** `service.name` for telemetry (`OTEL_SERVICE_NAME`). @default 'retailflow' */
  readonly serviceName: string;
  /**
   * Ingress protection (`LOAD_SHEDDING`): `ballast` is the adaptive concurrency limiter with priorities; `none`
   * and `toobusy` (toobusy-js, shedding on event-loop lag) exist so the proof can measure Ballast against them in
   * the same run. Production runs `ballast`. @default 'ballast'
   */
  readonly loadShedding: LoadSheddingMode;
  /**
   * With `ballast` shedding, also shed by event-loop pressure (`EVENT_LOOP_SHEDDING`, `true` or `false`): once the
   * loop has stayed saturated for about 400 ms (`EventLoopPressure` with an onset of 1), reads are shed first, then
   * other calls, and checkouts only while the loop's delay exceeds 150 ms, all before authentication; not before
   * the process has admitted its first `eventLoopWarmupRequests`, and only while RetailFlow itself uses
   * `eventLoopMinCpu`. Off by default: RetailFlow sheds by the checkout path's saturation (while the loop is
   * saturated), and alternating overload runs measured no gain from the loop on its own that the machine's noise
   * did not cover (docs/decisions/partitioned-admission.md). @default false
   */
  readonly eventLoopShedding: boolean;
  /**
   * Requests a process admits whatever its event loop does before event-loop shedding may refuse any
   * (`EVENT_LOOP_WARMUP_REQUESTS`): a process just started is saturated by running code V8 has not yet optimized,
   * and a blue/green switch or a canary sends it traffic at once. @default 1000
   */
  readonly eventLoopWarmupRequests: number;
  /**
   * CPU (in cores) the process must have used while its event loop was late for event-loop shedding to count it
   * (`EVENT_LOOP_MIN_CPU`, 0 to 1; 0 counts every late loop). A loop that is late while RetailFlow barely runs is
   * starved by its neighbours (a deploy starting instances on the same CPUs, a container's CPU quota), not
   * overloaded, and refusing requests would not give it the CPU back. Set it below the container's CPU limit.
   * @default 0.5
   */
  readonly eventLoopMinCpu: number;
  /**
   * Share of a sample's wall time the event loop must be busy for it to count as saturated
   * (`EVENT_LOOP_TARGET_UTILIZATION`, above 0 to 1; `EventLoopPressure`'s `targetUtilization`). The same loop gates
   * the reads shed while checkouts wait: a lower share sheds them sooner while the process is busy, and still not
   * while checkouts wait on a slow database with the loop idle. @default 0.99
   */
  readonly eventLoopTargetUtilization: number;
  /**
   * Milliseconds over which the front door averages "checkouts are waiting" before it sheds reads for it
   * (`INGRESS_SHED_SMOOTHING_MS`; `SaturationSignal`'s `smoothingMs`): reads are shed while checkouts have waited more
   * than half of about that long, not through each burst of a service at its capacity. 0 sheds at the first waiting
   * checkout, as before. @default 250
   */
  readonly ingressShedSmoothingMs: number;
  /**
   * Enforce the plans' monthly quotas (`QUOTAS`, `true` or `false`). Usage is metered either way; off, nothing is
   * refused or counted in the quota store (load tests that are not about quotas). @default true
   */
  readonly quotas: boolean;
  /** Prefix of the quota counters' Redis keys (`QUOTA_KEY_PREFIX`). @default '<namespace>:quota:' */
  readonly quotaKeyPrefix?: string;
  /**
   * The ingress limiter's algorithm (`INGRESS_LIMIT_ALGORITHM`): `gradient2` (latency gradient) or `vegas`
   * (estimated queue); both move between `INGRESS_MIN_LIMIT` and 1000. @default 'gradient2'
   */
  readonly ingressLimitAlgorithm: 'gradient2' | 'vegas';
  /** Starting concurrency limit of the ingress limiter (`INGRESS_INITIAL_LIMIT`). @default 200 */
  readonly ingressInitialLimit: number;
  /**
   * Floor of the ingress limit (`INGRESS_MIN_LIMIT`): checkouts waiting on the bulkhead and the payment provider
   * hold ingress permits, and a small limit would let them crowd cheap reads out. @default 100
   */
  readonly ingressMinLimit: number;
  /**
   * Most checkouts admitted at the front door at once (`INGRESS_CRITICAL_LIMIT`); more wait at the door (at most
   * 100 ms) for one to end. Checkouts are let in only as fast as the inventory bulkhead completes them, instead of
   * being parsed and validated only to queue or be refused at the bulkhead. 0 means twice the bulkhead's slots and
   * queue (`INVENTORY_CONCURRENCY` + `INVENTORY_QUEUE`): about as many again are on their way to it or past it (the
   * payment round trip). @default 0
   */
  readonly ingressCriticalLimit: number;
  /** Stock of every demo product when it is first seeded (`SEED_STOCK`); unset keeps the catalog's own figures. */
  readonly seedStock?: number;
  /**
   * The OAuth 2.0 / OpenID Connect issuer whose JWT access tokens RetailFlow accepts (`OIDC_ISSUER`, https or http
   * on loopback); unset means API keys only (embedded development).
   */
  readonly oidcIssuer?: string;
  /** RetailFlow's resource identifier, the `aud` its access tokens carry (`OIDC_AUDIENCE`); required with an issuer. */
  readonly oidcAudience?: string;
  /** Where the issuer publishes its signing keys (`OIDC_JWKS_URI`). @default `${oidcIssuer}/jwks` */
  readonly oidcJwksUri?: string;
  /**
   * Mutual TLS to the payment provider (`PAYMENT_MTLS`, `true` or `false`): the simulator RetailFlow starts
   * requires a client certificate and RetailFlow presents one (development certificates generated at start-up).
   * @default false
   */
  readonly paymentMtls?: boolean;
  /**
   * `production` when `NODE_ENV=production`: every secret must then be set (from the environment or a `*_FILE`)
   * and differ from the development defaults, and the payment simulator starts only when asked for
   * (`PAYMENT_SIMULATOR=true`). @default 'development'
   */
  readonly mode: 'development' | 'production';
  /** Port of the ops listener: `/metrics`, `/slo`, `/admin/*` (`OPS_PORT`); 0 picks a free port. @default 3002 */
  readonly opsPort: number;
  /** Interface of the ops listener (`OPS_HOST`): loopback, so only the host and its agents reach it. @default '127.0.0.1' */
  readonly opsHost: string;
  /** Token for `/metrics` and `/slo` on the ops listener (`OPS_TOKEN` or `OPS_TOKEN_FILE`). @default 'rf_ops_dev_token' */
  readonly opsToken: string;
  /**
   * Start the payment simulator when `PAYMENT_URL` is unset (`PAYMENT_SIMULATOR`, `true` or `false`). Development
   * defaults to `true`; production to `false`, and a production start without `PAYMENT_URL` or this set fails.
   * @default true
   */
  readonly paymentSimulator: boolean;
  /**
   * Longest a client may take to send a request body, in ms (`BODY_TIMEOUT_MS`): a slower body is answered 408
   * and its connection closed. Node's own `headersTimeout`/`requestTimeout` bound the rest. @default 10000
   */
  readonly bodyTimeoutMs: number;
  /**
   * Smallest `x-request-deadline-ms` a caller may send (`MIN_REQUEST_DEADLINE_MS`): a smaller budget is answered
   * 400 at once (the caller has left no time to serve it), so it never becomes a 503/504 against the SLO. @default 250
   */
  readonly minRequestDeadlineMs: number;
  /**
   * Share of the inventory bulkhead's running slots one tenant may hold (`TENANT_INVENTORY_SHARE`, 0-1): beyond it
   * (and past {@link RetailFlowConfig.tenantCheckoutQueue}'s wait) the tenant's checkout is answered 429, so one
   * tenant's burst cannot fill the bulkhead for the others (the ingress limiter is partitioned by tenant whatever
   * this says). `1` sets no per-tenant cap on checkouts.
   * @default 0.5
   */
  readonly tenantInventoryShare: number;
  /**
   * Checkouts one tenant may have waiting at the front door for one of its own places once it holds its share
   * (`TENANT_CHECKOUT_QUEUE`, 0-1000): a tenant within its plan whose checkouts arrive a few at once then waits up
   * to 100 ms for one of its own checkouts to end instead of being answered 429, while a flooding tenant's excess
   * waits for its own places only (the ingress limiter's `tenantQueue`). `0` answers 429 at once beyond the share.
   * @default 3
   */
  readonly tenantCheckoutQueue: number;
  /**
   * Failed authentications one source address may make per minute (`AUTH_FAILURES_PER_MINUTE`); beyond it the
   * source gets 429 before any key is looked up. Wrong admin keys share a global budget of ten times this.
   * @default 30
   */
  readonly authFailuresPerMinute: number;
  /**
   * The load balancers and proxies in front of RetailFlow whose `X-Forwarded-For` it believes for the failure
   * budget's source address (`TRUSTED_PROXIES`, comma-separated addresses and CIDR ranges, e.g. `10.0.0.0/8`).
   * Behind a proxy that is not listed, every client shares the proxy's address, and one client's wrong credentials
   * spend everyone's budget. List only proxies that append the address they saw (HAProxy's `option forwardfor`).
   * @default [] (the socket's peer, forwarding headers ignored)
   */
  readonly trustedProxies: readonly string[];
  /**
   * On `SIGTERM`, how long `/readyz` answers 503 before the listener closes, in ms (`PRE_STOP_DELAY_MS`): long
   * enough for a load balancer's health checks (typically every 5 s, 2 failures) to take the instance out.
   * @default 10000
   */
  readonly preStopDelayMs: number;
}

/** How RetailFlow protects itself at ingress (see {@link RetailFlowConfig.loadShedding}). */
export type LoadSheddingMode = 'ballast' | 'none' | 'toobusy';

/** The embedded defaults: what `npm start` runs with when no variable is set. */
export const DEFAULT_CONFIG: RetailFlowConfig = {
  port: 3000,
  host: '127.0.0.1',
  sqlitePath: ':memory:',
  paymentPort: 3001,
  adminKey: 'rf_admin_dev_key',
  acmeApiKey: 'rf_acme_dev_key',
  globexApiKey: 'rf_globex_dev_key',
  proRequestsPerMinute: 1200,
  freeRequestsPerMinute: 120,
  enterpriseRequestsPerMinute: 6000,
  costAttribution: true,
  costSampleRate: 1,
  costMaxTenants: 200,
  usageRetentionDays: 400,
  catalogCache: true,
  inventoryConcurrency: 4,
  inventoryQueue: 2,
  inventoryQueueTimeoutMs: 20,
  bodyLimitBytes: 64 * 1024,
  requestTimeoutMs: 5000,
  paymentTimeoutMs: 1000,
  paymentThrottleK: 2,
  paymentThrottleWindowMs: 5_000,
  shutdownTimeoutMs: 10_000,
  sagaRecoveryIntervalMs: 30_000,
  serviceName: 'retailflow',
  loadShedding: 'ballast',
  eventLoopShedding: false,
  eventLoopWarmupRequests: 1000,
  eventLoopMinCpu: 0.5,
  eventLoopTargetUtilization: 0.99,
  ingressShedSmoothingMs: 250,
  quotas: true,
  ingressLimitAlgorithm: 'gradient2',
  ingressInitialLimit: 200,
  ingressMinLimit: 100,
  ingressCriticalLimit: 0,
  mode: 'development',
  opsPort: 3002,
  opsHost: '127.0.0.1',
  opsToken: 'rf_ops_dev_token',
  paymentSimulator: true,
  bodyTimeoutMs: 10_000,
  minRequestDeadlineMs: 250,
  tenantInventoryShare: 0.5,
  tenantCheckoutQueue: 3,
  authFailuresPerMinute: 30,
  trustedProxies: [],
  preStopDelayMs: 10_000,
  prometheusRefreshMs: 15_000,
  sloSnapshotIntervalMs: 60_000,
};

/** The secrets of the configuration: never printed, never defaulted in production. */
const SECRETS = [
  ['ADMIN_KEY', 'adminKey'],
  ['OPS_TOKEN', 'opsToken'],
  ['ACME_API_KEY', 'acmeApiKey'],
  ['GLOBEX_API_KEY', 'globexApiKey'],
] as const;

type Env = Readonly<Record<string, string | undefined>>;

function text(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidOption(name, `an integer from ${min} to ${max}`, raw);
  }
  return value;
}

/**
 * A secret from `NAME` or, the convention of secret agents (Vault Agent, the Secrets Store CSI driver, Docker and
 * Kubernetes secrets), from the file `NAME_FILE` names; setting both is an error. The value is never echoed.
 */
function secretText(env: Env, name: string, readFile: (path: string) => string): string | undefined {
  const direct = text(env, name);
  const file = text(env, `${name}_FILE`);
  if (direct !== undefined && file !== undefined) {
    throw new TypeError(`Expected one of \`${name}\` and \`${name}_FILE\`, got both`);
  }
  if (file === undefined) return direct;
  let content: string;
  try {
    content = readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new TypeError(
      `Expected \`${name}_FILE\` to name a readable file, got \`${file}\` (${typeof code === 'string' ? code : 'unreadable'})`,
    );
  }
  const value = content.replace(/\r?\n$/, '');
  return value === '' ? undefined : value;
}

function key(
  env: Env,
  name: string,
  fallback: string,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): string {
  const raw = secretText(env, name, readFile);
  if (raw === undefined) return fallback;
  if (!/^[\x21-\x7e]{8,256}$/.test(raw)) {
    // Same template as invalidOption, without echoing a secret.
    throw new TypeError(
      `Expected \`${name}\` to be 8-256 printable ASCII characters, got a value of ${raw.length} characters`,
    );
  }
  return raw;
}

function share(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(value > 0 && value <= 1))
    throw invalidOption(name, 'a number above 0, at most 1', raw);
  return value;
}

/** A share of one CPU, from 0 (off) to 1. */
function cpuShare(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(value >= 0 && value <= 1)) {
    throw invalidOption(name, 'a number from 0 (off) to 1', raw);
  }
  return value;
}

/** A share of time busy: above 0, at most 1. */
function busyShare(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(value > 0 && value <= 1)) {
    throw invalidOption(name, 'a number above 0 and at most 1', raw);
  }
  return value;
}

/** The SRE book's K: `0` (off), or a number from 1 to 100 (below 1 a healthy provider's calls would be refused). */
function throttleK(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(value === 0 || (value >= 1 && value <= 100))) {
    throw invalidOption(name, '0 (off) or a number from 1 to 100', raw);
  }
  return value;
}

/** A comma-separated list of proxy addresses and CIDR ranges (empty entries ignored). */
function proxies(env: Env, name: string): readonly string[] {
  const raw = text(env, name);
  if (raw === undefined) return [];
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  try {
    trustedProxies(entries);
  } catch (error) {
    throw invalidOption(
      name,
      `IP addresses and CIDR ranges separated by commas (${(error as Error).message})`,
      raw,
    );
  }
  return entries;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw invalidOption(name, `a URL (${protocols.join(' or ')})`, raw);
  }
  if (!protocols.includes(parsed.protocol)) throw invalidOption(name, `a ${protocols.join(' or ')} URL`, raw);
  return raw;
}

/**
 * Reads the configuration from environment variables, falling back to {@link DEFAULT_CONFIG} for each one that
 * is unset or empty. A variable that is set but malformed throws the Ballast bad-option `TypeError` naming it.
 *
 * @example
 * ```ts
 * const config = loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
 * ```
 */
export function loadConfig(
  env: Env = process.env,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): RetailFlowConfig {
  const mode = text(env, 'NODE_ENV') === 'production' ? 'production' : 'development';
  const optional = {
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    amqpUrl: url(env, 'AMQP_URL', ['amqp:', 'amqps:']),
    otlpEndpoint: url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']),
    prometheusUrl: url(env, 'PROMETHEUS_URL', ['http:', 'https:']),
    sloSnapshotKey: text(env, 'SLO_SNAPSHOT_KEY'),
    paymentUrl: url(env, 'PAYMENT_URL', ['http:', 'https:']),
    oidcIssuer: url(env, 'OIDC_ISSUER', ['http:', 'https:']),
    oidcAudience: text(env, 'OIDC_AUDIENCE'),
    oidcJwksUri: url(env, 'OIDC_JWKS_URI', ['http:', 'https:']),
  };
  if (optional.oidcIssuer !== undefined && optional.oidcAudience === undefined) {
    throw invalidOption(
      'OIDC_AUDIENCE',
      'set when OIDC_ISSUER is (the aud of RetailFlow access tokens)',
      undefined,
    );
  }
  const config: Record<string, unknown> = {
    port: integer(env, 'PORT', DEFAULT_CONFIG.port, 0, 65535),
    host: text(env, 'HOST') ?? DEFAULT_CONFIG.host,
    sqlitePath: text(env, 'SQLITE_PATH') ?? DEFAULT_CONFIG.sqlitePath,
    paymentPort: integer(env, 'PAYMENT_PORT', DEFAULT_CONFIG.paymentPort, 0, 65535),
    adminKey: key(env, 'ADMIN_KEY', DEFAULT_CONFIG.adminKey, readFile),
    opsToken: key(env, 'OPS_TOKEN', DEFAULT_CONFIG.opsToken, readFile),
    acmeApiKey: key(env, 'ACME_API_KEY', DEFAULT_CONFIG.acmeApiKey, readFile),
    globexApiKey: key(env, 'GLOBEX_API_KEY', DEFAULT_CONFIG.globexApiKey, readFile),
    mode,
    opsPort: integer(env, 'OPS_PORT', DEFAULT_CONFIG.opsPort, 0, 65535),
    opsHost: text(env, 'OPS_HOST') ?? DEFAULT_CONFIG.opsHost,
    bodyTimeoutMs: integer(env, 'BODY_TIMEOUT_MS', DEFAULT_CONFIG.bodyTimeoutMs, 1, 600_000),
    minRequestDeadlineMs: integer(
      env,
      'MIN_REQUEST_DEADLINE_MS',
      DEFAULT_CONFIG.minRequestDeadlineMs,
      0,
      600_000,
    ),
    tenantInventoryShare: share(env, 'TENANT_INVENTORY_SHARE', DEFAULT_CONFIG.tenantInventoryShare),
    tenantCheckoutQueue: integer(env, 'TENANT_CHECKOUT_QUEUE', DEFAULT_CONFIG.tenantCheckoutQueue, 0, 1000),
    authFailuresPerMinute: integer(
      env,
      'AUTH_FAILURES_PER_MINUTE',
      DEFAULT_CONFIG.authFailuresPerMinute,
      1,
      1e9,
    ),
    trustedProxies: proxies(env, 'TRUSTED_PROXIES'),
    preStopDelayMs: integer(env, 'PRE_STOP_DELAY_MS', DEFAULT_CONFIG.preStopDelayMs, 0, 600_000),
    prometheusRefreshMs: integer(
      env,
      'PROMETHEUS_REFRESH_MS',
      DEFAULT_CONFIG.prometheusRefreshMs,
      1000,
      3_600_000,
    ),
    sloSnapshotIntervalMs: integer(
      env,
      'SLO_SNAPSHOT_INTERVAL_MS',
      DEFAULT_CONFIG.sloSnapshotIntervalMs,
      0,
      86_400_000,
    ),
    proRequestsPerMinute: integer(
      env,
      'PRO_REQUESTS_PER_MINUTE',
      DEFAULT_CONFIG.proRequestsPerMinute,
      1,
      1e9,
    ),
    freeRequestsPerMinute: integer(
      env,
      'FREE_REQUESTS_PER_MINUTE',
      DEFAULT_CONFIG.freeRequestsPerMinute,
      1,
      1e9,
    ),
    enterpriseRequestsPerMinute: integer(
      env,
      'ENTERPRISE_REQUESTS_PER_MINUTE',
      DEFAULT_CONFIG.enterpriseRequestsPerMinute,
      1,
      1e9,
    ),
    costMaxTenants: integer(env, 'COST_MAX_TENANTS', DEFAULT_CONFIG.costMaxTenants, 0, 100_000),
    usageRetentionDays: integer(env, 'USAGE_RETENTION_DAYS', DEFAULT_CONFIG.usageRetentionDays, 1, 36_500),
    inventoryConcurrency: integer(
      env,
      'INVENTORY_CONCURRENCY',
      DEFAULT_CONFIG.inventoryConcurrency,
      1,
      10_000,
    ),
    inventoryQueue: integer(env, 'INVENTORY_QUEUE', DEFAULT_CONFIG.inventoryQueue, 0, 100_000),
    inventoryQueueTimeoutMs: integer(
      env,
      'INVENTORY_QUEUE_TIMEOUT_MS',
      DEFAULT_CONFIG.inventoryQueueTimeoutMs,
      0,
      600_000,
    ),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', DEFAULT_CONFIG.bodyLimitBytes, 1, 10 * 1024 * 1024),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', DEFAULT_CONFIG.requestTimeoutMs, 1, 600_000),
    paymentTimeoutMs: integer(env, 'PAYMENT_TIMEOUT_MS', DEFAULT_CONFIG.paymentTimeoutMs, 1, 600_000),
    paymentThrottleK: throttleK(env, 'PAYMENT_THROTTLE_K', DEFAULT_CONFIG.paymentThrottleK),
    paymentThrottleWindowMs: integer(
      env,
      'PAYMENT_THROTTLE_WINDOW_MS',
      DEFAULT_CONFIG.paymentThrottleWindowMs,
      1000,
      9000,
    ),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', DEFAULT_CONFIG.shutdownTimeoutMs, 0, 600_000),
    sagaRecoveryIntervalMs: integer(
      env,
      'SAGA_RECOVERY_INTERVAL_MS',
      DEFAULT_CONFIG.sagaRecoveryIntervalMs ?? 30_000,
      0,
      86_400_000,
    ),
    serviceName: text(env, 'OTEL_SERVICE_NAME') ?? DEFAULT_CONFIG.serviceName,
    loadShedding: checkOneOf(
      'LOAD_SHEDDING',
      text(env, 'LOAD_SHEDDING'),
      ['ballast', 'none', 'toobusy'],
      DEFAULT_CONFIG.loadShedding,
    ),
  };
  config.ingressMinLimit = integer(env, 'INGRESS_MIN_LIMIT', DEFAULT_CONFIG.ingressMinLimit, 1, 100_000);
  config.ingressInitialLimit = integer(
    env,
    'INGRESS_INITIAL_LIMIT',
    Math.max(DEFAULT_CONFIG.ingressInitialLimit, config.ingressMinLimit as number),
    config.ingressMinLimit as number,
    100_000,
  );
  config.ingressCriticalLimit = integer(
    env,
    'INGRESS_CRITICAL_LIMIT',
    DEFAULT_CONFIG.ingressCriticalLimit,
    0,
    100_000,
  );
  config.ingressLimitAlgorithm = checkOneOf(
    'INGRESS_LIMIT_ALGORITHM',
    text(env, 'INGRESS_LIMIT_ALGORITHM'),
    ['gradient2', 'vegas'],
    DEFAULT_CONFIG.ingressLimitAlgorithm,
  );
  config.eventLoopShedding =
    checkOneOf('EVENT_LOOP_SHEDDING', text(env, 'EVENT_LOOP_SHEDDING'), ['true', 'false'], 'false') ===
    'true';
  config.eventLoopMinCpu = cpuShare(env, 'EVENT_LOOP_MIN_CPU', DEFAULT_CONFIG.eventLoopMinCpu);
  config.eventLoopTargetUtilization = busyShare(
    env,
    'EVENT_LOOP_TARGET_UTILIZATION',
    DEFAULT_CONFIG.eventLoopTargetUtilization,
  );
  config.ingressShedSmoothingMs = integer(
    env,
    'INGRESS_SHED_SMOOTHING_MS',
    DEFAULT_CONFIG.ingressShedSmoothingMs,
    0,
    60_000,
  );
  config.eventLoopWarmupRequests = integer(
    env,
    'EVENT_LOOP_WARMUP_REQUESTS',
    DEFAULT_CONFIG.eventLoopWarmupRequests,
    0,
    1_000_000_000,
  );
  config.quotas = checkOneOf('QUOTAS', text(env, 'QUOTAS'), ['true', 'false'], 'true') === 'true';
  config.costAttribution =
    checkOneOf('COST_ATTRIBUTION', text(env, 'COST_ATTRIBUTION'), ['true', 'false'], 'true') === 'true';
  config.catalogCache =
    checkOneOf('CATALOG_CACHE', text(env, 'CATALOG_CACHE'), ['true', 'false'], 'true') === 'true';
  const sampleRate = text(env, 'COST_SAMPLE_RATE');
  config.costSampleRate =
    sampleRate === undefined ? DEFAULT_CONFIG.costSampleRate : share(env, 'COST_SAMPLE_RATE', 1);
  const priceSheet = text(env, 'COST_PRICE_SHEET');
  if (priceSheet !== undefined) config.costPriceSheet = priceSheet;
  const quotaKeyPrefix = text(env, 'QUOTA_KEY_PREFIX');
  if (quotaKeyPrefix !== undefined) config.quotaKeyPrefix = quotaKeyPrefix;
  if (text(env, 'PAYMENT_MTLS') !== undefined) {
    config.paymentMtls =
      checkOneOf('PAYMENT_MTLS', text(env, 'PAYMENT_MTLS'), ['true', 'false'], 'false') === 'true';
  }
  if (text(env, 'DATABASE_PREPARED_STATEMENTS') !== undefined) {
    config.databasePreparedStatements = integer(env, 'DATABASE_PREPARED_STATEMENTS', 200, 0, 100_000);
  }
  if (text(env, 'DATABASE_WAIT_FOR_PRIMARY_MS') !== undefined) {
    config.databaseWaitForPrimaryMs = integer(env, 'DATABASE_WAIT_FOR_PRIMARY_MS', 0, 0, 86_400_000);
  }
  const seedStock = text(env, 'SEED_STOCK');
  if (seedStock !== undefined) config.seedStock = integer(env, 'SEED_STOCK', 0, 0, 1e12);
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) config[key] = value;
  const simulator = checkOneOf(
    'PAYMENT_SIMULATOR',
    text(env, 'PAYMENT_SIMULATOR'),
    ['true', 'false'],
    mode === 'production' ? 'false' : 'true',
  );
  config.paymentSimulator = simulator === 'true';
  if (mode === 'production') {
    // A production start never runs on a secret everyone knows, nor quietly takes payments with a simulator.
    const missing = SECRETS.filter(
      ([name, field]) =>
        secretText(env, name, readFile) === undefined || config[field] === DEFAULT_CONFIG[field],
    ).map(([name]) => name);
    if (missing.length > 0) {
      throw new TypeError(
        `Expected ${missing.map((n) => `\`${n}\` (or \`${n}_FILE\`)`).join(', ')} to be set to a secret other than the development default with NODE_ENV=production`,
      );
    }
    if (config.paymentUrl === undefined && !config.paymentSimulator) {
      throw new TypeError(
        'Expected `PAYMENT_URL` to be set with NODE_ENV=production (or `PAYMENT_SIMULATOR=true` to run the simulator on purpose)',
      );
    }
  }
  return config as unknown as RetailFlowConfig;
}
