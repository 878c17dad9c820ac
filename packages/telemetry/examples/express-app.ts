import express from 'express';
import { createMetricsRegistry, instrumentApp, instrumentFetch } from '@ballast/telemetry';

/** An express service with RED, USE and outbound metrics on its own registry, served on `/metrics`. */
export function createApp(inventoryUrl: string): express.Express {
  const app = express();
  const metrics = createMetricsRegistry({
    defaultLabels: { service: 'checkout' },
    cardinality: { limit: 200, limits: { http_server_request_duration_seconds: { tenant: 50 } } },
  });
  // First, before the routes: RED middleware, /metrics, runtime USE metrics.
  instrumentApp(app, metrics, { tenant: (req) => req.headers['x-tenant-id'] as string | undefined });

  // Outbound calls: duration by bounded server_address, trace context propagated.
  const inventoryFetch = instrumentFetch(metrics, { serverAddresses: [new URL(inventoryUrl).hostname] });

  const orders = express.Router({ mergeParams: true });
  orders.get('/:orderId', async (req, res) => {
    const stock = await inventoryFetch(`${inventoryUrl}/stock/${req.params.orderId}`);
    res.json({
      user: (req.params as Record<string, string>).userId,
      order: req.params.orderId,
      stock: stock.status,
    });
  });
  const api = express.Router();
  api.use('/users/:userId/orders', orders); // labelled http_route="/api/users/:userId/orders/:orderId"
  app.use('/api', api);
  return app;
}
