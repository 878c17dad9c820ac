import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import {
  AimdLimit,
  ConcurrencyLimiter,
  MemoryRateLimitStore,
  RateLimiter,
  loadSheddingMiddleware,
  rateLimitMiddleware,
} from '../src/index.js';

// Services that answer errors as RFC 9457 problems need the refusals to say so; RetailFlow used to patch
// `res.setHeader` on every request to get there.

function response() {
  const headers: Record<string, string> = {};
  const res = {
    statusCode: 200,
    headersSent: false,
    destroyed: false,
    body: '',
    setHeader(name: string, value: string | number) {
      headers[name.toLowerCase()] = String(value);
    },
    end(body: string) {
      res.body = body;
    },
    once() {
      return res;
    },
    on() {
      return res;
    },
  };
  return { res, headers };
}

const PROBLEM = 'application/problem+json; charset=utf-8';

describe('refusal content type', () => {
  it('is JSON by default and what `contentType` says otherwise, for shedding and rate limiting', async () => {
    const clock = new ManualClock(0);
    const limiter = new ConcurrencyLimiter({
      clock,
      algorithm: new AimdLimit({ initialLimit: 1, minLimit: 1 }),
      queue: false,
    });
    limiter.tryAcquire('critical'); // the only permit
    for (const [contentType, expected] of [
      [undefined, 'application/json; charset=utf-8'],
      [PROBLEM, PROBLEM],
    ] as const) {
      const shed = loadSheddingMiddleware(limiter, contentType ? { contentType } : {});
      const { res, headers } = response();
      shed({ headers: {} }, res, () => undefined);
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      expect(res.statusCode).toBe(503);
      expect(headers['content-type']).toBe(expected);

      const rateLimiter = new RateLimiter({
        clock,
        rule: { limit: 1, periodMs: 60_000 },
        store: new MemoryRateLimitStore(),
      });
      await rateLimiter.consume('t');
      const limit = rateLimitMiddleware(rateLimiter, {
        key: () => 't',
        ...(contentType ? { contentType } : {}),
      });
      const denied = response();
      limit({ headers: {} }, denied.res, () => undefined);
      await new Promise((r) => setImmediate(r));
      expect(denied.res.statusCode).toBe(429);
      expect(denied.headers['content-type']).toBe(expected);
    }
  });

  it('rejects an empty content type', () => {
    expect(() => loadSheddingMiddleware(new ConcurrencyLimiter(), { contentType: '' })).toThrow(
      'Expected `contentType` to be a non-empty string',
    );
  });
});
