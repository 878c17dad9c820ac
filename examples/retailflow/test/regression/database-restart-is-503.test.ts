import { describe, expect, it } from 'vitest';
import { isStoreUnavailable, translateError } from '../../src/wiring/errors.js';

// Found by the proof: while PostgreSQL restarted, checkouts that hit the closed connections answered 500. A
// database that is away is the service's dependency failing, not a bug: 503 with Retry-After, so clients retry.

describe('a database restart', () => {
  it.each([
    [
      'admin shutdown (57P01)',
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    ],
    [
      'server starting (57P03)',
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    ],
    ['connection exception (08006)', Object.assign(new Error('connection failure'), { code: '08006' })],
    [
      'refused socket',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    ['client saw the end', new Error('Connection terminated unexpectedly')],
  ])('%s answers 503 with Retry-After', (_name, error) => {
    expect(isStoreUnavailable(error)).toBe(true);
    const problem = translateError(error);
    expect(problem?.status).toBe(503);
  });

  it.each([
    ['a constraint violation', Object.assign(new Error('duplicate key'), { code: '23505' })],
    ['a syntax error', Object.assign(new Error('syntax error'), { code: '42601' })],
    ['a plain bug', new TypeError('undefined is not a function')],
  ])('%s stays a 500', (_name, error) => {
    expect(isStoreUnavailable(error)).toBe(false);
    expect(translateError(error)).toBeUndefined();
  });
});
