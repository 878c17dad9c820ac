import { readFileSync } from 'node:fs';

/** How the fixed platform cost is split between tenants: by their CPU time or by their requests. */
export type FixedShare = 'cpu' | 'requests';

/** What RetailFlow's resources cost, in one currency: the price sheet `GET /admin/cost` prices usage with. */
export interface PriceSheet {
  /** ISO 4217 code of every price. */
  readonly currency: string;
  /** One CPU-hour of the service's instances. */
  readonly cpuHour: number;
  /** One second of database time (a query running, as the SQL driver saw it). */
  readonly databaseSecond: number;
  /** One GB (10^9 bytes) of response bodies sent. */
  readonly egressGigabyte: number;
  /** The fixed platform cost per (30-day) month: load balancer, broker, Redis, monitoring, idle instances. */
  readonly fixedMonthly: number;
  /** How {@link PriceSheet.fixedMonthly} is split between tenants. */
  readonly fixedShare: FixedShare;
}

/**
 * The price sheet RetailFlow uses when `COST_PRICE_SHEET` is unset: the example figures of
 * `examples/retailflow/cost/price-sheet.json`.
 */
export const DEFAULT_PRICE_SHEET: PriceSheet = {
  currency: 'USD',
  cpuHour: 0.04,
  databaseSecond: 0.0000417,
  egressGigabyte: 0.09,
  fixedMonthly: 400,
  fixedShare: 'cpu',
};

const PRICES = ['cpuHour', 'databaseSecond', 'egressGigabyte', 'fixedMonthly'] as const;
const KNOWN = new Set<string>(['$comment', 'currency', 'fixedShare', ...PRICES]);

function fail(where: string, field: string, expected: string, value: unknown): never {
  const got = value === undefined ? 'nothing' : `\`${JSON.stringify(value)}\``;
  throw new TypeError(`${where}: expected \`${field}\` to be ${expected}, got ${got}`);
}

/**
 * Reads a price sheet from JSON text. Every price is required (a missing one would silently price a resource at
 * zero); an unknown field is refused (a typo would too). Errors name `where` and the field.
 *
 * @param where - what to name in errors (the file path). @default 'price sheet'
 * @example
 * ```ts
 * parsePriceSheet('{"currency":"USD","cpuHour":0.04,"databaseSecond":0.00004,"egressGigabyte":0.09,"fixedMonthly":400,"fixedShare":"cpu"}');
 * ```
 */
export function parsePriceSheet(text: string, where = 'price sheet'): PriceSheet {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`${where}: expected JSON, got a parse error (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError(`${where}: expected a JSON object of prices`);
  }
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!KNOWN.has(key)) {
      throw new TypeError(`${where}: unknown field \`${key}\` (expected ${[...KNOWN].slice(1).join(', ')})`);
    }
  }
  if (typeof doc.currency !== 'string' || !/^[A-Z]{3}$/.test(doc.currency)) {
    fail(where, 'currency', 'an ISO 4217 code such as `USD`', doc.currency);
  }
  for (const field of PRICES) {
    const value = doc[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      fail(where, field, 'a finite number >= 0', value);
    }
  }
  const fixedShare = doc.fixedShare ?? 'cpu';
  if (fixedShare !== 'cpu' && fixedShare !== 'requests') {
    fail(where, 'fixedShare', '`cpu` or `requests`', fixedShare);
  }
  return {
    currency: doc.currency,
    cpuHour: doc.cpuHour as number,
    databaseSecond: doc.databaseSecond as number,
    egressGigabyte: doc.egressGigabyte as number,
    fixedMonthly: doc.fixedMonthly as number,
    fixedShare,
  };
}

/**
 * Reads the price sheet file at `path` (see {@link parsePriceSheet}).
 *
 * @example
 * ```ts
 * const prices = loadPriceSheet('examples/retailflow/cost/price-sheet.json');
 * ```
 */
export function loadPriceSheet(path: string, readFile = (p: string) => readFileSync(p, 'utf8')): PriceSheet {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new TypeError(
      `Expected \`COST_PRICE_SHEET\` to name a readable file, got \`${path}\` (${typeof code === 'string' ? code : 'unreadable'})`,
    );
  }
  return parsePriceSheet(text, path);
}
