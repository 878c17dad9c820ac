import { reportError, type Clock, type TimerHandle } from '@ballast/core';
import type { SqlDriver, SqlRow, SqlSession } from '../data/index.js';
import type { BillingPeriod } from './period.js';

/** The billable event types RetailFlow meters. */
export type UsageType = 'order.placed';

/** One metered unit of billable usage, written in the same transaction as the business fact it bills. */
export interface UsageEvent {
  /** Deterministic (`<type>/<tenant>/<subject>`): the same fact always yields the same id. */
  readonly id: string;
  readonly tenantId: string;
  readonly type: UsageType;
  /** What was used (the order id). */
  readonly subject: string;
  readonly quantity: number;
  readonly occurredAt: number;
}

/** The id a billable fact is metered under: one fact, one id, one row. */
export function usageEventId(type: UsageType, tenantId: string, subject: string): string {
  return `${type}/${tenantId}/${subject}`;
}

/**
 * Meters one unit inside the caller's transaction. The row commits or rolls back with the business fact (an
 * order confirmed), so a crash between them cannot lose one; the unique id makes a second write of the same fact
 * (a replayed checkout, a retried transaction) a no-op. Resolves with whether a row was written.
 *
 * @example
 * ```ts
 * await driver.transaction(async (s) => {
 *   await s.run('UPDATE orders SET status = ? ...', [...]);
 *   await recordUsage(s, { type: 'order.placed', tenantId, subject: orderId, quantity: 1, occurredAt: at });
 * });
 * ```
 */
export async function recordUsage(s: SqlSession, event: Omit<UsageEvent, 'id'>): Promise<boolean> {
  const changed = await s.run(
    `INSERT INTO usage_events (id, tenant_id, type, subject, quantity, occurred_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
    [
      usageEventId(event.type, event.tenantId, event.subject),
      event.tenantId,
      event.type,
      event.subject,
      event.quantity,
      event.occurredAt,
    ],
  );
  return changed > 0;
}

function toUsage(r: SqlRow): UsageEvent {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    type: String(r.type) as UsageType,
    subject: String(r.subject),
    quantity: Number(r.quantity),
    occurredAt: Number(r.occurred_at),
  };
}

/**
 * Reads the meter: usage events per tenant and period, the totals the usage API and invoices show.
 *
 * @example
 * ```ts
 * const ledger = new UsageLedger(repo.driver);
 * const orders = await ledger.total('t1', 'order.placed', periodAt(Date.now(), 'UTC'));
 * ```
 */
export class UsageLedger {
  readonly #driver: SqlDriver;

  constructor(driver: SqlDriver) {
    this.#driver = driver;
  }

  /** The units of `type` metered for a tenant in a period. */
  async total(tenantId: string, type: UsageType, period: BillingPeriod): Promise<number> {
    const rows = await this.#driver.read((s) =>
      s.all(
        `SELECT COALESCE(SUM(quantity), 0) AS n FROM usage_events
         WHERE tenant_id = ? AND type = ? AND occurred_at >= ? AND occurred_at < ?`,
        [tenantId, type, period.start, period.end],
      ),
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Usage events with `from <= occurredAt < to`, oldest first, optionally of one tenant, in pages of `limit`
   * after the event `after` (an id returned earlier, for the next page).
   */
  async list(options: {
    readonly from: number;
    readonly to: number;
    readonly tenantId?: string;
    readonly after?: { readonly occurredAt: number; readonly id: string };
    readonly limit?: number;
  }): Promise<UsageEvent[]> {
    const where = ['occurred_at >= ?', 'occurred_at < ?'];
    const params: unknown[] = [options.from, options.to];
    if (options.tenantId !== undefined) {
      where.push('tenant_id = ?');
      params.push(options.tenantId);
    }
    if (options.after) {
      where.push('(occurred_at > ? OR (occurred_at = ? AND id > ?))');
      params.push(options.after.occurredAt, options.after.occurredAt, options.after.id);
    }
    const rows = await this.#driver.read((s) =>
      s.all(`SELECT * FROM usage_events WHERE ${where.join(' AND ')} ORDER BY occurred_at, id LIMIT ?`, [
        ...params,
        options.limit ?? 1000,
      ]),
    );
    return rows.map(toUsage);
  }
}

/** A CloudEvents 1.0 event in the JSON format (structured mode). */
export interface UsageCloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly subject: string;
  readonly datacontenttype: 'application/json';
  readonly data: {
    readonly tenantId: string;
    readonly quantity: number;
    readonly unit: string;
  };
}

/**
 * A usage event as CloudEvents 1.0 JSON for a billing system. The event id is the meter's id, so a consumer that
 * deduplicates on (`source`, `id`), as the specification asks, bills each fact once however often it is exported.
 *
 * @param source - the URI reference naming this RetailFlow deployment. @default '/retailflow'
 * @example
 * ```ts
 * toCloudEvent(event).type; // 'com.retailflow.usage.order.placed'
 * ```
 */
export function toCloudEvent(event: UsageEvent, source = '/retailflow'): UsageCloudEvent {
  return {
    specversion: '1.0',
    id: event.id,
    source,
    type: `com.retailflow.usage.${event.type}`,
    time: new Date(event.occurredAt).toISOString(),
    subject: `tenants/${event.tenantId}/orders/${event.subject}`,
    datacontenttype: 'application/json',
    data: { tenantId: event.tenantId, quantity: event.quantity, unit: 'order' },
  };
}

/**
 * Every usage event of a period (all tenants, or one) as CloudEvents, read page by page.
 *
 * @example
 * ```ts
 * const events = await exportUsage(ledger, parsePeriod('2026-12', 'UTC'));
 * ```
 */
export async function exportUsage(
  ledger: UsageLedger,
  period: Pick<BillingPeriod, 'start' | 'end'>,
  options: { readonly tenantId?: string; readonly source?: string } = {},
): Promise<UsageCloudEvent[]> {
  const out: UsageCloudEvent[] = [];
  let after: UsageEvent | undefined;
  for (;;) {
    const page = await ledger.list({
      from: period.start,
      to: period.end,
      limit: 1000,
      ...(options.tenantId === undefined ? {} : { tenantId: options.tenantId }),
      ...(after ? { after } : {}),
    });
    out.push(...page.map((event) => toCloudEvent(event, options.source)));
    if (page.length < 1000) return out;
    after = page.at(-1);
  }
}

/**
 * Deletes usage events that occurred before `before` (epoch ms), in batches of `batch` rows so that no single
 * transaction holds the table for long; resolves with the rows deleted. Invoices of pruned months can no longer be
 * rebuilt from the meter: prune only what is past re-issuing (RetailFlow keeps `USAGE_RETENTION_DAYS`, 400 by
 * default: the current month and the twelve before it).
 *
 * @example
 * ```ts
 * await pruneUsage(repo.driver, Date.now() - 400 * 86_400_000);
 * ```
 */
export async function pruneUsage(driver: SqlDriver, before: number, batch = 5000): Promise<number> {
  if (!Number.isSafeInteger(before)) {
    throw new TypeError(`Expected \`before\` to be epoch ms (an integer), got \`${String(before)}\``);
  }
  let deleted = 0;
  for (;;) {
    // A bounded batch by the time index (both dialects: DELETE ... WHERE id IN (SELECT ... LIMIT n)).
    const n = await driver.transaction((s) =>
      s.run(
        `DELETE FROM usage_events WHERE id IN
           (SELECT id FROM usage_events WHERE occurred_at < ? ORDER BY occurred_at, id LIMIT ?)`,
        [before, batch],
      ),
    );
    deleted += n;
    if (n < batch) return deleted;
  }
}

/**
 * Prunes usage events older than `retentionMs` now and then every `everyMs`, on `clock` (timers do not hold the
 * process). Failures are reported and retried at the next run. Returns a function that stops it.
 *
 * @example
 * ```ts
 * const stop = scheduleUsagePruning(driver, systemClock, 400 * 86_400_000);
 * ```
 */
export function scheduleUsagePruning(
  driver: SqlDriver,
  clock: Clock,
  retentionMs: number,
  options: { readonly everyMs?: number; readonly onPruned?: (deleted: number) => void } = {},
): () => void {
  const everyMs = options.everyMs ?? 3_600_000;
  let stopped = false;
  let timer: TimerHandle | undefined;
  const run = async () => {
    try {
      // Timestamps are stored as whole ms (BIGINT): the clock's may have a fraction.
      const deleted = await pruneUsage(driver, Math.floor(clock.now() - retentionMs));
      options.onPruned?.(deleted);
    } catch (error) {
      if (!stopped) reportError(error, 'retailflow: pruning usage events');
    }
    if (!stopped) timer = clock.setTimeout(() => void run(), everyMs, { ref: false });
  };
  void run();
  return () => {
    stopped = true;
    if (timer !== undefined) clock.clearTimeout(timer);
  };
}
