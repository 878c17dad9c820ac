import { hashApiKey } from './hash.js';
import type { Plan, Product, Repository, Tenant } from './repository.js';

/**
 * The two demo tenants: `acme` on the `pro` plan, `globex` on `free`.
 *
 * @example
 * ```ts
 * import { demoTenants } from './data/index.js';
 * for (const t of demoTenants) console.log(t.id, t.plan);
 * ```
 */
export const demoTenants: readonly {
  readonly id: 'acme' | 'globex';
  readonly name: string;
  readonly plan: Plan;
}[] = [
  { id: 'acme', name: 'Acme Corporation', plan: 'pro' },
  { id: 'globex', name: 'Globex Corporation', plan: 'free' },
];

/**
 * The demo catalog every demo tenant gets (prices in cents, USD).
 *
 * @example
 * ```ts
 * import { demoCatalog } from './data/index.js';
 * const productId = demoCatalog[0]!.id; // 'sku-espresso'
 * ```
 */
export const demoCatalog: readonly Omit<Product, 'tenantId' | 'updatedAt'>[] = [
  { id: 'sku-espresso', name: 'Espresso beans, 1 kg', priceCents: 2400, currency: 'USD', stock: 1000 },
  { id: 'sku-grinder', name: 'Burr grinder', priceCents: 12900, currency: 'USD', stock: 200 },
  { id: 'sku-kettle', name: 'Gooseneck kettle', priceCents: 6500, currency: 'USD', stock: 300 },
  { id: 'sku-filter', name: 'Paper filters, 100', priceCents: 600, currency: 'USD', stock: 5000 },
  { id: 'sku-mug', name: 'Stoneware mug', priceCents: 1800, currency: 'USD', stock: 800 },
  { id: 'sku-scale', name: 'Brewing scale', priceCents: 4500, currency: 'USD', stock: 150 },
];

/** Options of {@link seedDemoData}. */
export interface SeedOptions {
  /** The API key of each demo tenant (from configuration); only their hashes are stored. */
  readonly apiKeys: { readonly acme: string; readonly globex: string };
  /** Stock of every product when first inserted; unset keeps each product's own figure. */
  readonly stock?: number;
}

/**
 * Seeds the demo tenants (their plan and key hash are updated on every run, so a changed key takes effect) and
 * the demo catalog (inserted when missing: stock of existing products is left alone). Idempotent.
 *
 * @example
 * ```ts
 * import { openRepository, seedDemoData } from './data/index.js';
 * const repo = await openRepository();
 * await seedDemoData(repo, { apiKeys: { acme: 'rf_acme_demo', globex: 'rf_globex_demo' } });
 * ```
 */
export async function seedDemoData(repository: Repository, options: SeedOptions): Promise<Tenant[]> {
  const tenants: Tenant[] = [];
  for (const t of demoTenants) {
    const key = options.apiKeys[t.id];
    if (typeof key !== 'string' || key.length < 8) {
      throw new TypeError(
        `Expected \`apiKeys.${t.id}\` to be a string of at least 8 characters, got \`${typeof key}\``,
      );
    }
    tenants.push(await repository.upsertTenant({ ...t, apiKeyHash: hashApiKey(key) }));
    for (const product of demoCatalog) {
      await repository.ensureProduct({ ...product, stock: options.stock ?? product.stock, tenantId: t.id });
    }
  }
  return tenants;
}
