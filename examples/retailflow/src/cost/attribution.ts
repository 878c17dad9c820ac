import { AsyncLocalStorage, createHook, type AsyncHook } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { reportError } from '@ballast/core';
import { routeOf } from '@ballast/telemetry';
import type { SqlDriver, SqlSession } from '../data/index.js';
import type { CostMeter } from './meter.js';

/** What one request has used so far. */
interface RequestCost {
  /** Whether its on-thread time is measured (sampling). */
  readonly sampled: boolean;
  onThreadMs: number;
  dbMs: number;
  dbStatements: number;
}

/** Options of {@link CostAttribution}. */
export interface CostAttributionOptions {
  readonly meter: CostMeter;
  /** The tenant a request was authenticated as, read when it ends. */
  readonly tenantOf: (req: IncomingMessage) => string | undefined;
  /**
   * Share of requests whose on-thread time is measured, from 0 to 1; the others get the sampled ones' time scaled
   * up (1 / rate) in the totals. Database time and bytes are measured on every request. @default 1
   */
  readonly sampleRate?: number;
  /** Randomness for sampling, returning [0, 1). @default Math.random */
  readonly random?: () => number;
  /** The process's CPU time in µs (user + system). @default process.cpuUsage */
  readonly processCpuMicros?: () => number;
  /** How often the CPU calibration is re-measured, in ms (`Infinity`: never; charge on-thread time). @default 1000 */
  readonly calibrationIntervalMs?: number;
  /**
   * Whether database statements run on this thread (embedded SQLite): their time is then on-thread time too, and
   * is taken out of the CPU figure so that it is priced once, as database time. @default false
   */
  readonly inProcessDatabase?: boolean;
}

/**
 * Per-request cost attribution: on-thread time, database time and body bytes of each request, by tenant and
 * route, into a {@link CostMeter}.
 *
 * **CPU**: Node runs a request's JavaScript on one thread, in synchronous segments (the middleware chain, then
 * each callback or promise continuation). An `async_hooks` hook times every top-level segment that runs in a
 * request's asynchronous context (`AsyncLocalStorage`), with `performance.now()`, and the middleware times the
 * first segment. Their sum is the request's on-thread time. On-thread (wall) time overstates CPU when the thread
 * is preempted (a loaded machine), so it is calibrated: the hook also sums every top-level segment, and once a
 * second the process's CPU time (`process.cpuUsage`) over that interval is divided by it; a request is charged
 * its on-thread time times that ratio. The process's CPU is thus shared in proportion to on-thread time, which
 * spreads preemption and the work of helper threads (garbage collection, the libuv pool) evenly; work outside any
 * request's context (parsing socket data before it reaches a continuation, the outbox relay, scrapes, the front
 * door) stays unattributed. {@link CostMeter.snapshot} returns the process's CPU time over the same window, so a
 * report shows how much was attributed. **Database**: the time from a statement's call to its answer, as the driver
 * sees it (network and queueing in the pool included), plus each transaction's begin/commit overhead.
 * **Bytes**: `Content-Length` of the request and of the response (headers not counted).
 *
 * @example
 * ```ts
 * const attribution = new CostAttribution({ meter, tenantOf: (req) => contextOf(req).tenant?.id });
 * attribution.instrumentDriver(repo.driver);
 * app.use(attribution.middleware);
 * ```
 */
export class CostAttribution {
  readonly #storage = new AsyncLocalStorage<RequestCost>();
  readonly #hook: AsyncHook;
  readonly #meter: CostMeter;
  readonly #tenantOf: (req: IncomingMessage) => string | undefined;
  readonly #sampleRate: number;
  readonly #random: () => number;
  readonly #inProcessDatabase: boolean;
  readonly #processCpuMicros: () => number;
  readonly #calibrationIntervalMs: number;
  #depth = 0;
  #segment: RequestCost | undefined;
  #segmentStart = 0;
  /** On-thread time of every top-level segment, in ms, request or not. */
  #threadMs = 0;
  /** Process CPU per on-thread ms over the last calibration interval (see the class documentation). */
  #cpuPerThreadMs = 1;
  #calibratedAt = performance.now();
  #cpuAtCalibration: number;
  #threadAtCalibration = 0;

  constructor(options: CostAttributionOptions) {
    const rate = options.sampleRate ?? 1;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new TypeError(`Expected \`sampleRate\` to be a number from 0 to 1, got \`${String(rate)}\``);
    }
    this.#meter = options.meter;
    this.#tenantOf = options.tenantOf;
    this.#sampleRate = rate;
    this.#random = options.random ?? Math.random;
    this.#inProcessDatabase = options.inProcessDatabase ?? false;
    this.#processCpuMicros = options.processCpuMicros ?? processCpuMicros;
    this.#calibrationIntervalMs = options.calibrationIntervalMs ?? 1000;
    this.#cpuAtCalibration = this.#processCpuMicros();
    const storage = this.#storage;
    this.#hook = createHook({
      before: () => {
        // Only the outermost segment is timed: a nested callback's time is already inside it.
        if (this.#depth++ !== 0) return;
        this.#segmentStart = performance.now();
        const cost = storage.getStore();
        this.#segment = cost?.sampled ? cost : undefined;
      },
      after: () => {
        if (--this.#depth > 0) return;
        this.#depth = 0;
        const elapsed = performance.now() - this.#segmentStart;
        this.#threadMs += elapsed;
        const cost = this.#segment;
        if (cost) {
          cost.onThreadMs += elapsed;
          this.#segment = undefined;
        }
      },
    });
    if (rate > 0) this.#hook.enable();
  }

  /**
   * Express middleware, first in the chain after RED metrics: starts a request's cost record and, when its
   * response closes, adds it to the meter under its tenant and route. Never throws into the request.
   */
  readonly middleware: RequestHandler = (req, res, next) => {
    const cost: RequestCost = {
      sampled: this.#sampleRate >= 1 || (this.#sampleRate > 0 && this.#random() < this.#sampleRate),
      onThreadMs: 0,
      dbMs: 0,
      dbStatements: 0,
    };
    res.once('close', () => this.#finish(req, res, cost));
    const start = performance.now();
    // The rest of the chain's first synchronous segment runs inside the segment that delivered the request (no
    // request context yet): time it here.
    this.#storage.run(cost, next);
    if (cost.sampled) cost.onThreadMs += performance.now() - start;
  };

  /**
   * Process CPU per ms of on-thread time, re-measured at most every `calibrationIntervalMs` over the last interval: below 1 when
   * the thread was preempted (a loaded machine), above 1 when other threads of the process (garbage collection,
   * the libuv pool) worked too. Intervals with under 20 ms on the thread keep the previous figure.
   */
  #calibration(): number {
    const now = performance.now();
    if (now - this.#calibratedAt >= this.#calibrationIntervalMs) {
      const thread = this.#threadMs - this.#threadAtCalibration;
      const cpu = this.#processCpuMicros();
      if (thread >= 20) {
        this.#cpuPerThreadMs = Math.min(4, Math.max(0, (cpu - this.#cpuAtCalibration) / 1000 / thread));
      }
      this.#calibratedAt = now;
      this.#cpuAtCalibration = cpu;
      this.#threadAtCalibration = this.#threadMs;
    }
    return this.#cpuPerThreadMs;
  }

  #finish(req: IncomingMessage, res: ServerResponse, cost: RequestCost): void {
    try {
      const db = cost.dbMs / 1000;
      let onThread = cost.onThreadMs;
      // In-process database statements ran on this thread: priced once, as database time.
      if (this.#inProcessDatabase) onThread = Math.max(0, onThread - cost.dbMs);
      const cpu = cost.sampled ? (onThread * this.#calibration()) / 1000 / this.#sampleRate : 0;
      this.#meter.record({
        tenant: this.#tenantOf(req),
        method: req.method ?? 'GET',
        route: routeOf(res) ?? '__unmatched__',
        cpuSeconds: cpu,
        dbSeconds: db,
        dbStatements: cost.dbStatements,
        bytesIn: lengthOf(req.headers['content-length']),
        bytesOut: lengthOf(res.getHeader('content-length')),
      });
    } catch (error) {
      reportError(error, 'retailflow: recording the cost of a request');
    }
  }

  /**
   * Times every statement `driver` runs for a request (reads and transactions), by replacing `read` and
   * `transaction` on this instance: the repository holding it keeps calling the same object.
   */
  instrumentDriver(driver: SqlDriver): void {
    const storage = this.#storage;
    const read = driver.read.bind(driver);
    const transaction = driver.transaction.bind(driver);
    const timed = (session: SqlSession, cost: RequestCost): SqlSession => {
      const time = async <T>(work: () => Promise<T>): Promise<T> => {
        const start = performance.now();
        try {
          return await work();
        } finally {
          cost.dbMs += performance.now() - start;
          cost.dbStatements++;
        }
      };
      return {
        all: (sql, params) => time(() => session.all(sql, params)),
        run: (sql, params) => time(() => session.run(sql, params)),
        exec: (sql) => time(() => session.exec(sql)),
      };
    };
    const inProcess = this.#inProcessDatabase;
    Object.assign(driver, {
      read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
        const cost = storage.getStore();
        return cost ? read((s) => fn(timed(s, cost))) : read(fn);
      },
      async transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
        const cost = storage.getStore();
        if (!cost) return transaction(fn);
        // Begin, commit and the wait for a pooled connection are database time the statements do not show: the
        // transaction's duration minus its callback's. In-process (SQLite) the difference is the wait for the
        // store's lock, not database work.
        const start = performance.now();
        let inside = 0;
        try {
          return await transaction(async (s) => {
            const entered = performance.now();
            try {
              return await fn(timed(s, cost));
            } finally {
              inside = performance.now() - entered;
            }
          });
        } finally {
          if (!inProcess) cost.dbMs += Math.max(0, performance.now() - start - inside);
        }
      },
    });
  }

  /** Stops timing (the hook is disabled); requests already in flight are still recorded. */
  close(): void {
    this.#hook.disable();
  }
}

function processCpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

function lengthOf(header: unknown): number {
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(value) && value > 0 ? value : 0;
}
