import { appendAuditEntry } from './audit-store.js';
import type { SqlOrderStore } from './order-store.js';
import { isOrderVersionConflictError } from './order-streams.js';
import { RowTakenError } from './order-writes-postgres.js';
import type { FulfilmentOutcome, FulfilmentStore } from './repository.js';
import type { SqlContext } from './sql-context.js';
import { checkId, num } from './sql-rows.js';

/** The primary key of `processed_events`: a delivery whose event was processed already. */
const PROCESSED_EVENT_TAKEN = 'processed_events_pkey';

/**
 * The fulfilment consumer's effects (`processed_events`, `shipments`, and `order.fulfilled` on the order's stream).
 * Part of {@link SqlRepository}, which composes one of each store over one {@link SqlContext}.
 */
export class SqlFulfilmentStore implements FulfilmentStore {
  private readonly ctx: SqlContext;
  private readonly orders: SqlOrderStore;

  constructor(ctx: SqlContext, orders: SqlOrderStore) {
    this.ctx = ctx;
    this.orders = orders;
  }

  async fulfilOrder(input: {
    consumer: string;
    eventId: string;
    tenantId: string;
    orderId: string;
  }): Promise<FulfilmentOutcome> {
    checkId('consumer', input.consumer);
    checkId('eventId', input.eventId);
    // A concurrent change of the order (a cancellation) that appends first rolls this delivery back with a version
    // conflict: decided again on the new state, a few times, before the broker's redelivery is left to it.
    for (let attempt = 1; ; attempt++) {
      try {
        return await (this.ctx.kind === 'postgres' ? this.#fulfilInOneStatement(input) : this.#fulfil(input));
      } catch (error) {
        if (!isOrderVersionConflictError(error) || attempt >= 5) throw error;
      }
    }
  }

  /**
   * On PostgreSQL: the order's stream is read, then the processed-event row, `order.fulfilled` with its projections,
   * the shipment and the audit entry are written as one statement (see `writeInOneStatement`). The processed-event
   * row's primary key decides duplicates, earlier or concurrent (a concurrent one waits for the first to commit);
   * a cancellation that appended first fails the write on the stream's version. An order not `confirmed` is
   * skipped, its event recorded as processed.
   */
  async #fulfilInOneStatement(input: {
    consumer: string;
    eventId: string;
    tenantId: string;
    orderId: string;
  }): Promise<FulfilmentOutcome> {
    const processed = {
      sql: 'INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, ?)',
      params: [input.consumer, input.eventId, this.ctx.now()],
    };
    const state = await this.orders.currentState(input.tenantId, input.orderId);
    if (state?.order.status !== 'confirmed') {
      const fresh = await this.ctx.driver.read((s) =>
        s.all(
          `${processed.sql} ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
          processed.params,
        ),
      );
      return fresh.length === 0 ? 'duplicate' : 'skipped';
    }
    const at = this.ctx.now();
    const actor = `consumer:${input.consumer}`;
    const plan = this.orders.plan(
      state,
      [{ type: 'order.fulfilled', data: { eventId: input.eventId } }],
      actor,
      at,
    );
    try {
      await this.orders.write({
        ...plan,
        also: [
          processed,
          {
            sql: 'INSERT INTO shipments (tenant_id, order_id, event_id, shipped_at) VALUES (?, ?, ?, ?)',
            params: [input.tenantId, input.orderId, input.eventId, at],
          },
        ],
        audit: [
          {
            tenantId: input.tenantId,
            actor,
            action: 'order.fulfilled',
            targetType: 'order',
            targetId: input.orderId,
            details: { eventId: input.eventId },
          },
        ],
      });
    } catch (error) {
      if (error instanceof RowTakenError && error.constraint === PROCESSED_EVENT_TAKEN) return 'duplicate';
      throw error;
    }
    return 'fulfilled';
  }

  #fulfil(input: {
    consumer: string;
    eventId: string;
    tenantId: string;
    orderId: string;
  }): Promise<FulfilmentOutcome> {
    return this.ctx.tx(async (s) => {
      const at = this.ctx.now();
      // The processed-event row commits with the effect or not at all; a concurrent duplicate waits on the
      // primary key (PostgreSQL) and then inserts nothing.
      const fresh = await s.all(
        `INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, ?)
         ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [input.consumer, input.eventId, at],
      );
      if (fresh.length === 0) return 'duplicate';
      // The stream is read and appended to under the processed-event row's lock: a concurrent cancellation that
      // appends first makes this append fail on the version, and the whole delivery is tried again.
      const state = await this.orders.stateOf(s, input.tenantId, input.orderId);
      if (state?.order.status !== 'confirmed') return 'skipped';
      await this.orders.appendEvents(
        s,
        state,
        [{ type: 'order.fulfilled', data: { eventId: input.eventId } }],
        `consumer:${input.consumer}`,
        at,
      );
      await s.run('INSERT INTO shipments (tenant_id, order_id, event_id, shipped_at) VALUES (?, ?, ?, ?)', [
        input.tenantId,
        input.orderId,
        input.eventId,
        at,
      ]);
      await appendAuditEntry(
        s,
        {
          tenantId: input.tenantId,
          actor: `consumer:${input.consumer}`,
          action: 'order.fulfilled',
          targetType: 'order',
          targetId: input.orderId,
          details: { eventId: input.eventId },
        },
        at,
      );
      return 'fulfilled';
    });
  }

  async countShipments(tenantId?: string): Promise<number> {
    const rows = await this.ctx.driver.read((s) =>
      tenantId === undefined
        ? s.all('SELECT COUNT(*) AS n FROM shipments')
        : s.all('SELECT COUNT(*) AS n FROM shipments WHERE tenant_id = ?', [tenantId]),
    );
    return num(rows[0]?.n ?? 0);
  }

  async isProcessed(consumer: string, eventId: string): Promise<boolean> {
    const rows = await this.ctx.driver.read((s) =>
      s.all('SELECT 1 AS one FROM processed_events WHERE consumer = ? AND event_id = ?', [consumer, eventId]),
    );
    return rows.length > 0;
  }
}
