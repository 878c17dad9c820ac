import express from 'express';
import promBundle from 'express-prom-bundle';
import { Registry } from 'prom-client';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { metricsHandler } from '../src/metrics-handler.js';
import { redMiddleware } from '../src/http/red-middleware.js';

/**
 * The benchmark variants: the same app without metrics; with an empty middleware and a `/metrics` route (what any
 * metrics middleware adds to express's dispatch before doing anything); with Ballast RED; with express-prom-bundle.
 */
export type Variant = 'bare' | 'layer' | 'red' | 'prombundle';

/** One express app, identical routes in every variant; only the metrics middleware differs. */
export function buildApp(variant: Variant): express.Express {
  const app = express();
  if (variant === 'red') {
    const metrics = createMetricsRegistry();
    app.use(redMiddleware(metrics));
    app.get('/metrics', metricsHandler(metrics));
  } else if (variant === 'layer') {
    app.use((_req, _res, next) => next());
    app.get('/metrics', (_req, res) => {
      res.send('');
    });
  } else if (variant === 'prombundle') {
    app.use(
      promBundle({
        includeMethod: true,
        includePath: true,
        includeStatusCode: true,
        promRegistry: new Registry(),
      }),
    );
  }
  const users = express.Router();
  users.get('/:id', (req, res) => {
    res.json({ id: req.params.id, name: 'Ada' });
  });
  app.use('/api/users', users);
  app.get('/health', (_req, res) => {
    res.send('ok');
  });
  return app;
}
