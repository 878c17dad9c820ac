import { Router, type RequestHandler } from 'express';
import type { Repository } from '../data/index.js';
import type { FeatureFlags } from '../flags/flags.js';
import { tenantOf } from '../http/context.js';
import { API_ROUTES } from '../http/route-table.js';
import { HttpProblem } from '../http/problem.js';
import { presentProduct } from '../http/present.js';
import { pageQuery, pathParam } from '../http/validation.js';
import type { ServicePolicies } from '../policies.js';

/** How many related products a product page lists while `recommendations` is on. */
const RECOMMENDATIONS = 3;

/**
 * `GET /products` and `GET /products/:id`: read-heavy, served through the catalog cache (single-flight on a miss,
 * the last good value when the store fails). Product pages add related products while the `recommendations` flag
 * is on; the flag goes off when checkout's error budget is exhausted, which sheds that extra read.
 */
export function catalogRoutes(
  repo: Repository,
  policies: ServicePolicies,
  flags: FeatureFlags,
  front: readonly RequestHandler[],
): Router {
  const router = Router({ caseSensitive: true });
  router.get(API_ROUTES.listProducts.path, ...front, async (req, res) => {
    const tenant = tenantOf(req);
    const page = pageQuery(req);
    const key = `${tenant.id}:list:${page.limit ?? ''}:${page.cursor ?? ''}`;
    const result = await policies.catalog(key, () => repo.listProducts(tenant.id, page));
    res.json({ items: result.items.map(presentProduct), nextCursor: result.nextCursor });
  });
  router.get(API_ROUTES.getProduct.path, ...front, async (req, res) => {
    const tenant = tenantOf(req);
    const id = pathParam(req, 'productId');
    const product = await policies.catalog(`${tenant.id}:product:${id}`, () =>
      repo.getProduct(tenant.id, id),
    );
    if (!product) throw new HttpProblem(404, 'not-found', 'Not found', `No product ${id}`);
    const overrides = await policies.catalog(`${tenant.id}:flags`, () => repo.listFlagOverrides(tenant.id));
    if (!flags.isEnabled('recommendations', overrides)) {
      res.json(presentProduct(product));
      return;
    }
    const related = await policies.catalog(`${tenant.id}:list::`, () => repo.listProducts(tenant.id));
    const recommendations = related.items
      .filter((p) => p.id !== product.id && p.stock > 0)
      .slice(0, RECOMMENDATIONS)
      .map((p) => ({ id: p.id, name: p.name }));
    res.json({ ...presentProduct(product), recommendations });
  });
  return router;
}
