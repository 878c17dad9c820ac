import type { AddressInfo } from 'node:net';
import http, { type Server } from 'node:http';
import { ManualClock } from '@ballast/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { Priority } from '@ballast/core';
import { ConcurrencyLimiter } from '../src/shed/ConcurrencyLimiter.js';
import { loadSheddingMiddleware } from '../src/shed/loadSheddingMiddleware.js';
import { RecordingLimit } from './limit-helpers.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function listen(app: express.Express): Promise<string> {
  return new Promise((resolve) => {
    server = app.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`),
    );
  });
}

describe('loadSheddingMiddleware (express 5)', () => {
  function app(limit: number) {
    const algorithm = new RecordingLimit(limit);
    const limiter = new ConcurrencyLimiter({ clock: new ManualClock(0), algorithm, queue: false });
    const gates: (() => void)[] = [];
    const arrived: string[] = [];
    const application = express();
    application.use(
      loadSheddingMiddleware(limiter, {
        priority: (req): Priority => (req.get('x-priority') as Priority | undefined) ?? 'default',
        retryAfterSeconds: 3,
      }),
    );
    application.get('/slow', async (req, res) => {
      arrived.push(req.get('x-priority') ?? 'default');
      await new Promise<void>((resolve) => gates.push(resolve));
      res.json({ ok: true });
    });
    application.get('/fail', (_req, res) => {
      res.status(503).end();
    });
    return { application, limiter, algorithm, gates, arrived };
  }

  it('answers 503 with Retry-After and a JSON body when shedding, by priority', async () => {
    const { application, limiter, gates, arrived } = app(2);
    const url = await listen(application);
    // One default request holds a permit: with limit 2 the sheddable share (floor(2 * 0.5) = 1) is used up.
    const first = fetch(`${url}/slow`);
    await expect.poll(() => arrived.length).toBe(1);
    const shed = await fetch(`${url}/slow`, { headers: { 'x-priority': 'sheddable' } });
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('3');
    expect(shed.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await shed.json()).toEqual({
      error: 'overloaded',
      message: 'The service is shedding load; retry later.',
      priority: 'sheddable',
      retryAfterSeconds: 3,
    });
    // Critical work still gets the last slot.
    const critical = fetch(`${url}/slow`, { headers: { 'x-priority': 'critical' } });
    await expect.poll(() => arrived.length).toBe(2);
    expect(limiter.inFlightByPriority).toEqual({ critical: 1, default: 1, sheddable: 0 });
    for (const open of gates) open();
    expect((await first).status).toBe(200);
    expect((await critical).status).toBe(200);
    await expect.poll(() => limiter.inFlight).toBe(0);
  });

  it('does not run a queued request whose client went away while it waited', async () => {
    const algorithm = new RecordingLimit(1);
    const limiter = new ConcurrencyLimiter({ clock: new ManualClock(0), algorithm, queue: { maxSize: 5 } });
    const arrived: string[] = [];
    const gates: (() => void)[] = [];
    let closed = 0;
    const application = express();
    application.use((_req, res, next) => {
      res.on('close', () => closed++);
      next();
    });
    application.use(loadSheddingMiddleware(limiter));
    application.get('/:id', async (req, res) => {
      arrived.push(req.params.id);
      await new Promise<void>((resolve) => gates.push(resolve));
      res.json({ ok: true });
    });
    const url = await listen(application);
    const first = fetch(`${url}/first`);
    await expect.poll(() => arrived.length).toBe(1);
    // A raw request whose socket the client destroys while it waits in the queue.
    const second = http.get(`${url}/second`);
    second.on('error', () => {});
    await expect.poll(() => limiter.queued).toBe(1);
    second.destroy();
    await expect.poll(() => closed).toBe(1);
    gates[0]!();
    expect((await first).status).toBe(200);
    await expect.poll(() => limiter.queued + limiter.inFlight).toBe(0);
    expect(arrived).toEqual(['first']);
    expect(algorithm.samples).toHaveLength(1); // the abandoned request gave no sample
  });

  it('releases the permit when the response finishes, counting 503 responses as drops', async () => {
    const { application, limiter, algorithm } = app(5);
    const url = await listen(application);
    expect((await fetch(`${url}/fail`)).status).toBe(503);
    await expect.poll(() => algorithm.samples.length).toBe(1);
    expect(algorithm.samples[0]).toMatchObject({ dropped: true, inFlight: 1 });
    expect(limiter.inFlight).toBe(0);
  });
});
