import express from 'express';
import { pino, type DestinationStream } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Policy } from '@ballast/resilience';
import {
  createMetricsRegistry,
  logPolicyEvents,
  rateLimitedLogger,
  redMiddleware,
  requestLogOptions,
  traceLogMixin,
} from '@ballast/telemetry';

/** An express app whose JSON logs join its traces: request lines, policy state changes, rate-limited warnings. */
export function createLoggedApp(destination: DestinationStream, payments: Policy): express.Express {
  // Every line written inside a traced request carries trace_id, span_id and trace_flags.
  const logger = pino({ level: 'info', mixin: traceLogMixin }, destination);
  const metrics = createMetricsRegistry();

  const app = express();
  app.use(redMiddleware(metrics)); // first: it captures the route template the request line names
  app.use(pinoHttp({ logger, ...requestLogOptions({ tenant: (req) => req.headers['x-tenant'] as string }) }));

  logPolicyEvents(logger, [payments]); // breaker open/closed, shedding started/stopped, store failures
  const warnings = rateLimitedLogger(logger, { perWindow: 5, windowMs: 60_000 });

  app.get('/orders/:id', (req, res) => {
    if (!/^o\d+$/.test(req.params.id)) {
      warnings.warn('bad-order-id', { id: req.params.id.slice(0, 64) }, 'order id in the wrong format');
      res.status(400).json({ title: 'Bad order id' });
      return;
    }
    throw new Error('orders store unreachable'); // a 500: one line at error, with the trace id
  });
  return app;
}
