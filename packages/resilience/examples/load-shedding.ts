import express from 'express';
import {
  ConcurrencyLimiter,
  EventLoopPressure,
  Gradient2Limit,
  loadSheddingMiddleware,
  type Priority,
} from '@ballast/resilience';

/** Health checks are never shed; report exports go first when the service is saturated. */
export function priorityOf(path: string): Priority {
  if (path === '/healthz') return 'critical';
  if (path.startsWith('/reports')) return 'sheddable';
  return 'default';
}

export function createApp(
  limiter = new ConcurrencyLimiter({
    name: 'http-inbound',
    algorithm: new Gradient2Limit({ initialLimit: 50, minLimit: 10, maxLimit: 500 }),
    queue: { maxSize: 100, targetMs: 5, intervalMs: 100 },
    // Also shed by priority when the event loop saturates, which latency inside handlers cannot show.
    admission: new EventLoopPressure(),
  }),
): express.Express {
  limiter.onEvent((e) => {
    if (e.type === 'limit-change') console.log(`limit ${e.from} -> ${e.to}`);
  });
  const app = express();
  app.use(loadSheddingMiddleware(limiter, { priority: (req) => priorityOf(req.path), retryAfterSeconds: 2 }));
  app.get('/healthz', (_req, res) => {
    res.send('ok');
  });
  app.get('/orders/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  return app;
}
