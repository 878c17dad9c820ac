import { checkNumber } from '@ballast/core';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import type { CatalogStore, Page, PageRequest, Product } from './repository.js';
import type { SqlContext } from './sql-context.js';
import { checkId, toProduct } from './sql-rows.js';

/**
 * The catalog (`products`): products and their stock on the shelf.
 * Part of {@link SqlRepository}, which composes one of each store over one {@link SqlContext}.
 */
export class SqlCatalogStore implements CatalogStore {
  private readonly ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.ctx = ctx;
  }

  async getProduct(tenantId: string, productId: string): Promise<Product | undefined> {
    const rows = await this.ctx.driver.read((s) =>
      s.all('SELECT * FROM products WHERE tenant_id = ? AND id = ?', [tenantId, productId]),
    );
    return rows[0] && toProduct(rows[0]);
  }

  async listProducts(tenantId: string, page: PageRequest = {}): Promise<Page<Product>> {
    const limit = pageLimit(page.limit);
    const after = page.cursor === undefined ? undefined : String(decodeCursor(page.cursor, ['s'])[0]);
    const rows = await this.ctx.driver.read((s) =>
      after === undefined
        ? s.all('SELECT * FROM products WHERE tenant_id = ? ORDER BY id LIMIT ?', [tenantId, limit + 1])
        : s.all('SELECT * FROM products WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?', [
            tenantId,
            after,
            limit + 1,
          ]),
    );
    const items = rows.slice(0, limit).map(toProduct);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
  }

  async ensureProduct(product: Omit<Product, 'updatedAt'>): Promise<Product> {
    checkId('product.id', product.id);
    checkNumber('product.priceCents', product.priceCents, 0, { integer: true, min: 0 });
    checkNumber('product.stock', product.stock, 0, { integer: true, min: 0 });
    const rows = await this.ctx.tx(async (s) => {
      await s.run(
        `INSERT INTO products (tenant_id, id, name, price_cents, currency, stock, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`,
        [
          product.tenantId,
          product.id,
          product.name,
          product.priceCents,
          product.currency,
          product.stock,
          this.ctx.now(),
        ],
      );
      return s.all('SELECT * FROM products WHERE tenant_id = ? AND id = ?', [product.tenantId, product.id]);
    });
    return toProduct(rows[0]!);
  }

  async setStock(tenantId: string, productId: string, stock: number): Promise<Product | undefined> {
    checkNumber('stock', stock, 0, { integer: true, min: 0 });
    const rows = await this.ctx.tx((s) =>
      s.all('UPDATE products SET stock = ?, updated_at = ? WHERE tenant_id = ? AND id = ? RETURNING *', [
        stock,
        this.ctx.now(),
        tenantId,
        productId,
      ]),
    );
    return rows[0] && toProduct(rows[0]);
  }
}
