import http from 'node:http';
import express from 'express';
import promBundle from 'express-prom-bundle';
import pino from 'pino';
import { pinoHttp } from 'pino-http';
import { Registry } from 'prom-client';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { metricsHandler } from '../src/metrics-handler.js';
import { redMiddleware } from '../src/http/red-middleware.js';
import { requestLogOptions } from '../src/logs/request-log.js';
import { traceLogMixin } from '../src/logs/trace-context.js';

/**
 * The benchmark variants: the same app without metrics; with an empty middleware and a `/metrics` route (what any
 * metrics middleware adds to express's dispatch before doing anything); with Ballast RED; with express-prom-bundle;
 * with request logging (pino-http with `requestLogOptions`, a pino logger at `info` with the trace mixin, JSON lines
 * written synchronously to `/dev/null`): `log-failures` as Ballast recommends (a successful request is at `debug`,
 * so not written), `log-every` with a line per request at `info`. `node-http` is no framework at all: a
 * `node:http` server answering the same route with the same JSON (the floor under every other variant).
 */
export type Variant = 'node-http' | 'bare' | 'layer' | 'red' | 'prombundle' | 'log-failures' | 'log-every';

const USER_PATH = /^\/api\/users\/([^/?]+)(?:\?.*)?$/;

/** The `node-http` variant: the users route and `/health` on a plain `node:http` handler. */
export function buildNodeHttpServer(): http.Server {
  return http.createServer((req, res) => {
    const match = req.method === 'GET' ? USER_PATH.exec(req.url ?? '') : null;
    if (match) {
      const body = JSON.stringify({ id: decodeURIComponent(match[1]!), name: 'Ada' });
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    } else if (req.url === '/health') {
      res.end('ok');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
}

/** One express app, identical routes in every variant; only the metrics middleware differs. */
export function buildApp(variant: Exclude<Variant, 'node-http'>): express.Express {
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
  } else if (variant === 'log-failures' || variant === 'log-every') {
    const logger = pino(
      { level: 'info', mixin: traceLogMixin },
      pino.destination({ dest: '/dev/null', sync: true }),
    );
    const options = requestLogOptions();
    app.use(
      pinoHttp({
        logger,
        ...options,
        customLogLevel: variant === 'log-every' ? () => 'info' : options.customLogLevel,
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
