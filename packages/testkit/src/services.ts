import net from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import amqp from 'amqplib';

/** The real services Ballast's integration tests talk to. */
export type ServiceName = 'redis' | 'postgres' | 'rabbitmq';

/** What a reachability probe found. */
export interface ServiceStatus {
  readonly name: ServiceName;
  /** Human name used in messages ("Redis"). */
  readonly label: string;
  /** The URL probed, from the environment or the local default. */
  readonly url: string;
  /** The environment variable that overrides {@link ServiceStatus.url}. */
  readonly envVar: string;
  readonly available: boolean;
  /** Why it is unavailable (empty when available). */
  readonly reason: string;
}

const SERVICES: Record<ServiceName, { label: string; envVar: string; fallback: string }> = {
  redis: { label: 'Redis', envVar: 'REDIS_URL', fallback: 'redis://127.0.0.1:6379' },
  postgres: {
    label: 'PostgreSQL',
    envVar: 'DATABASE_URL',
    fallback: 'postgres://postgres@127.0.0.1:5432/test',
  },
  rabbitmq: { label: 'RabbitMQ', envVar: 'AMQP_URL', fallback: 'amqp://guest:guest@127.0.0.1:5672' },
};

/** Every service name, in the order they are probed and reported. */
export const SERVICE_NAMES: readonly ServiceName[] = ['redis', 'postgres', 'rabbitmq'];

/** The URL for `name`: its environment variable when set, else the local default. */
export function serviceUrl(name: ServiceName, env: NodeJS.ProcessEnv = process.env): string {
  const spec = SERVICES[name];
  const value = env[spec.envVar];
  return value !== undefined && value !== '' ? value : spec.fallback;
}

/** True when `BALLAST_REQUIRE_SERVICES=1`: unreachable services fail the run instead of skipping suites. */
export function servicesRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BALLAST_REQUIRE_SERVICES === '1';
}

const PROBE_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function tcpReachable(url: string, defaultPort: number): Promise<void> {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : defaultPort;
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

async function speak(name: ServiceName, url: string): Promise<void> {
  switch (name) {
    case 'redis': {
      await tcpReachable(url, 6379);
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      try {
        await client.connect();
        const pong = await client.ping();
        if (pong !== 'PONG') throw new Error(`PING answered ${String(pong)}`);
      } finally {
        client.disconnect();
      }
      return;
    }
    case 'postgres': {
      await tcpReachable(url, 5432);
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
      await client.connect();
      try {
        await client.query('SELECT 1');
      } finally {
        await client.end();
      }
      return;
    }
    case 'rabbitmq': {
      await tcpReachable(url, 5672);
      const connection = await amqp.connect(url);
      await connection.close();
      return;
    }
  }
}

/**
 * Checks that `name` answers its own protocol (Redis `PING`, PostgreSQL `SELECT 1`, an AMQP handshake), with a
 * bounded timeout. Never throws: an unreachable service comes back with `available: false` and the reason.
 *
 * @example
 * ```ts
 * const redis = await probeService('redis');
 * if (!redis.available) console.log(redis.reason);
 * ```
 */
export async function probeService(
  name: ServiceName,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceStatus> {
  const spec = SERVICES[name];
  const url = serviceUrl(name, env);
  const base = { name, label: spec.label, url, envVar: spec.envVar };
  try {
    await withTimeout(speak(name, url), PROBE_TIMEOUT_MS, spec.label);
    return { ...base, available: true, reason: '' };
  } catch (error) {
    const reason =
      error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
    return { ...base, available: false, reason };
  }
}

/** The URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** The one-line message for an unreachable service. */
export function unreachableMessage(status: ServiceStatus): string {
  return `${status.label} unreachable at ${redactUrl(status.url)} (${status.reason}); set ${status.envVar} to point at one`;
}
