/** The SQL dialects RetailFlow runs on. */
export type SqlDialect = 'sqlite' | 'postgres';

/** One schema change; applied once, in version order, recorded in `schema_migrations`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The DDL for a dialect (several statements separated by `;`). */
  readonly sql: (dialect: SqlDialect) => string;
}

const autoSeq = (d: SqlDialect): string =>
  d === 'sqlite'
    ? 'seq INTEGER PRIMARY KEY AUTOINCREMENT'
    : 'seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY';

const appendOnly = (d: SqlDialect): string =>
  d === 'sqlite'
    ? `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
         BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
       CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
         BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;`
    : `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
       CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
         FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();`;

const eventsAppendOnly = (d: SqlDialect): string =>
  d === 'sqlite'
    ? `CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
         BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;
       CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
         BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;`
    : `CREATE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'order_events is append-only'; END $$;
       CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
         FOR EACH ROW EXECUTE FUNCTION order_events_append_only();`;

/**
 * RetailFlow's schema, oldest first. Add a migration at the end with the next version; never edit one that has
 * shipped. Timestamps are epoch milliseconds (BIGINT), booleans 0/1, JSON as text, so one schema serves both
 * dialects.
 *
 * @example
 * ```ts
 * import { migrations } from './data/index.js';
 * const latest = migrations.at(-1)?.version; // the schema version this build expects
 * ```
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tenants, catalog, orders',
    sql: () => `
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        plan TEXT NOT NULL CHECK (plan IN ('free', 'pro')),
        api_key_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE products (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
        currency TEXT NOT NULL,
        stock BIGINT NOT NULL CHECK (stock >= 0),
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      );
      CREATE TABLE orders (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status TEXT NOT NULL
          CHECK (status IN ('pending', 'confirmed', 'payment_failed', 'fulfilled', 'cancelled')),
        total_cents BIGINT NOT NULL,
        currency TEXT NOT NULL,
        payment_id TEXT,
        status_reason TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        deleted_at BIGINT,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, idempotency_key)
      );
      CREATE INDEX orders_by_created ON orders (tenant_id, created_at, id);
      CREATE TABLE order_items (
        tenant_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        line INTEGER NOT NULL,
        product_id TEXT NOT NULL,
        name TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_price_cents BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, order_id, line),
        FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id)
      );`,
  },
  {
    version: 2,
    name: 'append-only audit log',
    sql: (d) => `
      CREATE TABLE audit_log (
        ${autoSeq(d)},
        tenant_id TEXT,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target_type TEXT NOT NULL,
        target_id TEXT NOT NULL,
        details TEXT NOT NULL
      );
      CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq);
      ${appendOnly(d)}`,
  },
  {
    version: 3,
    name: 'transactional outbox',
    sql: (d) => `
      CREATE TABLE outbox (
        ${autoSeq(d)},
        id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        aggregate_type TEXT NOT NULL,
        aggregate_id TEXT NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        locked_until BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        published_at BIGINT,
        dead_lettered_at BIGINT
      );
      CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL AND dead_lettered_at IS NULL;`,
  },
  {
    version: 4,
    name: 'idempotent consumers and fulfilment',
    sql: () => `
      CREATE TABLE processed_events (
        consumer TEXT NOT NULL,
        event_id TEXT NOT NULL,
        processed_at BIGINT NOT NULL,
        PRIMARY KEY (consumer, event_id)
      );
      CREATE TABLE shipments (
        tenant_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        shipped_at BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, order_id)
      );`,
  },
  {
    version: 5,
    name: 'feature flag overrides',
    sql: () => `
      CREATE TABLE flag_overrides (
        scope TEXT NOT NULL,
        flag TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (scope, flag)
      );`,
  },
  {
    version: 6,
    name: 'per-tenant API keys',
    sql: () => `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        expires_at BIGINT,
        revoked_at BIGINT,
        last_used_at BIGINT,
        replaces TEXT
      );
      CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);`,
  },
  {
    version: 7,
    name: 'outbox relay leadership lease with fencing tokens',
    sql: () => `
      CREATE TABLE relay_leases (
        key TEXT PRIMARY KEY,
        owner TEXT,
        token BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      ALTER TABLE outbox ADD COLUMN claim_token BIGINT;`,
  },
  {
    version: 8,
    name: 'audit entries numbered per tenant',
    // The global `seq` told every tenant how much all the others did; entries are now numbered within their
    // tenant (system entries within the system scope, ''). Entries written before keep a NULL `tenant_seq`.
    sql: () => `
      ALTER TABLE audit_log ADD COLUMN tenant_seq BIGINT;
      CREATE TABLE audit_sequences (
        scope TEXT PRIMARY KEY,
        last BIGINT NOT NULL
      );
      CREATE UNIQUE INDEX audit_log_by_tenant_seq ON audit_log (tenant_id, tenant_seq);`,
  },
  {
    version: 9,
    name: 'usage metering and billing accounts',
    sql: () => `
      CREATE TABLE usage_events (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        type TEXT NOT NULL,
        subject TEXT NOT NULL,
        quantity BIGINT NOT NULL CHECK (quantity > 0),
        occurred_at BIGINT NOT NULL,
        UNIQUE (tenant_id, type, subject)
      );
      CREATE INDEX usage_events_by_tenant ON usage_events (tenant_id, occurred_at);
      CREATE INDEX usage_events_by_time ON usage_events (occurred_at, id);
      CREATE TABLE billing_accounts (
        tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
        plan TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
        time_zone TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      );`,
  },
  {
    version: 10,
    name: 'event-sourced orders: event streams and the stock reservation projection',
    // Each order is a stream of events numbered by `version`; the unique (tenant, order, version) is the optimistic
    // concurrency check: two writers that read the same version cannot both append. `orders` and `order_items`
    // become projections of the streams (they keep their shape; `version` is the last event folded in), and
    // `stock_reservations` lists the units each live order holds. Orders written before this migration have no
    // stream and keep their rows as they are.
    sql: (d) => `
      CREATE TABLE order_events (
        ${autoSeq(d)},
        event_id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version > 0),
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        UNIQUE (tenant_id, order_id, version)
      );
      ${eventsAppendOnly(d)}
      CREATE TABLE stock_reservations (
        tenant_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        product_id TEXT NOT NULL,
        quantity BIGINT NOT NULL CHECK (quantity > 0),
        reserved_at BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, order_id, product_id)
      );
      CREATE INDEX stock_reservations_by_product ON stock_reservations (tenant_id, product_id);
      ALTER TABLE orders ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE orders ADD COLUMN payment_failure TEXT;
      UPDATE orders SET payment_failure = CASE WHEN status_reason LIKE 'declined: %' THEN 'declined' ELSE 'unavailable' END
        WHERE status = 'payment_failed';`,
  },
  {
    version: 11,
    name: 'checkout sagas',
    // The open checkout sagas (a projection of the order streams): the recovery step resumes or compensates the
    // ones whose last event is old. A completed saga has no row.
    sql: () => `
      CREATE TABLE checkout_sagas (
        tenant_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        step TEXT NOT NULL CHECK (step IN ('charging', 'voiding', 'refunding')),
        cancel_requested INTEGER NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, order_id)
      );
      CREATE INDEX checkout_sagas_by_age ON checkout_sagas (updated_at);`,
  },
  {
    version: 14,
    name: 'SLO engine snapshots',
    // One row per engine (key: the service, or an instance's own key): its state as JSON text, overwritten by
    // each save, so error budgets and firing alerts survive a restart.
    sql: () => `
      CREATE TABLE slo_snapshots (
        key TEXT PRIMARY KEY,
        snapshot TEXT NOT NULL,
        taken_at BIGINT NOT NULL
      );`,
  },
  {
    version: 15,
    name: 'a check that fails a statement',
    // RetailFlow writes a whole order command as one statement on PostgreSQL (see order-writes-postgres.ts); a
    // condition that must hold for it to commit (every product had the stock the order takes) fails it through
    // this function: `retailflow_check(NULL, …)` is true, `retailflow_check('sku-mug', 'RFS01')` raises SQLSTATE
    // RFS01 with the message 'sku-mug', and the statement leaves nothing. SQLite writes one statement at a time
    // and checks in the application.
    sql: (d) =>
      d === 'postgres'
        ? `CREATE FUNCTION retailflow_check(failure text, code text) RETURNS boolean LANGUAGE plpgsql AS $$
             BEGIN
               IF failure IS NOT NULL THEN RAISE EXCEPTION USING ERRCODE = code, MESSAGE = failure; END IF;
               RETURN true;
             END $$;`
        : '-- PostgreSQL only',
  },
];
