import { reportError, type Clock } from '@ballast/core';

/** One dependency check for `/readyz`: resolves when the dependency answers. */
export interface ReadinessCheck {
  readonly name: string;
  /**
   * A dependency the service keeps answering without (the broker: events wait in the outbox). Its failure is
   * reported and makes the status `degraded`, but the instance stays ready, so a load balancer keeps it.
   * @default false
   */
  readonly degradable?: boolean;
  check(signal: AbortSignal): Promise<void>;
}

/** The outcome of one check. */
export interface CheckResult {
  readonly ok: boolean;
  readonly detail?: string;
}

/**
 * What `/readyz` answers: `ready` and `degraded` (a degradable dependency is down) answer 200, `not-ready` 503.
 */
export interface ReadinessReport {
  readonly status: 'ready' | 'degraded' | 'not-ready';
  readonly checks: Readonly<Record<string, CheckResult>>;
}

/**
 * Readiness: every dependency answers within `timeoutMs`, and the service is not draining. Once
 * {@link Readiness.startDraining} is called the report stays `not-ready`, so load balancers stop sending traffic
 * before the listener closes.
 */
export class Readiness {
  readonly #checks: readonly ReadinessCheck[];
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #draining = false;
  #closed = false;

  constructor(checks: readonly ReadinessCheck[], clock: Clock, timeoutMs = 1000) {
    this.#checks = checks;
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  get draining(): boolean {
    return this.#draining;
  }

  startDraining(): void {
    this.#draining = true;
  }

  /** True once the listener closed: requests still arriving on kept-alive connections are refused (503). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Marks the listener closed (after the pre-stop delay); implies draining. */
  markClosed(): void {
    this.#draining = true;
    this.#closed = true;
  }

  async report(): Promise<ReadinessReport> {
    const checks: Record<string, CheckResult> = {
      draining: this.#draining ? { ok: false, detail: 'shutting down' } : { ok: true },
    };
    await Promise.all(
      this.#checks.map(async (c) => {
        checks[c.name] = await this.#run(c);
      }),
    );
    const degradable = new Set(this.#checks.filter((c) => c.degradable === true).map((c) => c.name));
    const failed = Object.entries(checks).filter(([, c]) => !c.ok);
    const status =
      failed.length === 0
        ? 'ready'
        : failed.every(([name]) => degradable.has(name))
          ? 'degraded'
          : 'not-ready';
    return { status, checks };
  }

  async #run(c: ReadinessCheck): Promise<CheckResult> {
    const controller = new AbortController();
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = this.#clock.setTimeout(() => {
        controller.abort();
        resolve({ ok: false, detail: `no answer within ${this.#timeoutMs} ms` });
      }, this.#timeoutMs);
    });
    try {
      return await Promise.race([
        c.check(controller.signal).then(
          (): CheckResult => ({ ok: true }),
          (error: unknown): CheckResult => ({
            ok: false,
            detail: error instanceof Error ? error.message : String(error),
          }),
        ),
        timeout,
      ]);
    } catch (error) {
      reportError(error, `readiness check ${c.name}`);
      return { ok: false, detail: 'check failed' };
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    }
  }
}
